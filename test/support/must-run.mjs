/**
 * Tests that need something a machine may lack (a model, a fixture, a browser feature) are
 * skipped without it, and report as skipped. In CI (`.ci/run` sets CI=true;
 * BRUSHCAM_NO_SKIP=1 does the same locally) every test must run, so there the same test fails
 * and says what was missing.
 */
export const REQUIRE_ALL = process.env.CI === 'true' || process.env.BRUSHCAM_NO_SKIP === '1';

/**
 * node:test arguments after the name: `it(name, ...needs(ok, 'why it would skip', fn))`.
 * @template {(...a: any[]) => unknown} F
 * @param {unknown} ok @param {string} reason @param {F} fn
 * @returns {[object, F | (() => never)]}
 */
export function needs(ok, reason, fn) {
  if (ok) return [{}, fn];
  if (REQUIRE_ALL) return [{}, () => { throw new Error(`must run in CI, but ${reason}`); }];
  return [{ skip: reason }, fn];
}
