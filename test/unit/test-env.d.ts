/** Served by web-test-runner.config.mjs (testEnvPlugin). */
declare module 'virtual:test-env' {
  /** True in CI: a test must run, not skip. */
  export const requireAll: boolean;
}
