// End-to-end: what `npm run package` writes installs and works. The Chrome zip, unpacked, loads in
// Chromium and runs a painting network on its WASM engine and the avatar's face detector (so the
// WebAssembly it ships is the one the code loads); the Firefox package installs in Firefox ESR
// and leaves a call's camera flowing. Needs `npm run build` first.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildPackages } from '../../scripts/package.mjs';
import { extensionStatus, launch, setSettings } from '../support/browser.mjs';
import { ADDON_ID, EXTENSION_ORIGIN, launchFirefox } from '../support/firefox.mjs';
import { stillCamera } from '../support/fixtures.mjs';
import { serve } from '../support/server.mjs';

const cam = stillCamera(640, 360);
let out, server, pkgs;

before(async () => {
  out = mkdtempSync(join(tmpdir(), 'brushcam-packages-'));
  pkgs = buildPackages(out);
  server = await serve();
});
after(async () => {
  await server?.close();
  if (out) rmSync(out, { recursive: true, force: true });
});

async function waitFor(context, extensionId, page, pred, what, timeoutMs = 90000) {
  const end = Date.now() + timeoutMs;
  let st;
  for (;;) {
    st = (await extensionStatus(context, extensionId, page.url()))?.pipelines?.at(-1);
    if (st && pred(st)) return st;
    if (st?.state === 'failed') throw new Error(`${what}: failed: ${st.lastError}`);
    if (Date.now() > end) throw new Error(`${what}: not within ${timeoutMs / 1000} s: ${JSON.stringify(st)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

describe('store packages', () => {
  it('the size report names both packages', () => {
    assert.match(pkgs.report, /brushcam-chrome-\d+\.\d+\.\d+\.zip \| [\d.]+ MB/);
    assert.match(pkgs.report, /brushcam-firefox-\d+\.\d+\.\d+\.zip \| [\d.]+ MB/);
  });

  it('the Chrome zip, unpacked, loads in Chromium: a painting network and the avatar run from it', async () => {
    const dir = join(out, 'chrome-unpacked');
    execFileSync('/usr/bin/python3', ['-m', 'zipfile', '-e', pkgs.chrome, dir]);
    // tfjs's SIMD build, and for the cross-origin-isolated offscreen engine its threaded SIMD build
    // with the thread worker and glue as files (src/engine/threads.ts): nothing else
    assert.deepEqual(readdirSync(join(dir, 'wasm')).sort(), [
      'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.js', 'tfjs-backend-wasm-threaded-simd.wasm', 'tfjs-backend-wasm-threaded-simd.worker.js',
    ]);
    const browser = await launch({ camera: cam.y4m, extension: dir });
    try {
      await setSettings(browser.context, browser.extensionId, { mode: 'style', style: 'starry_night', backend: 'wasm' });
      const page = await browser.context.newPage();
      await page.goto(`${server.url}/index.html`);
      await page.waitForFunction(() => window.gumTest);
      await page.evaluate(() => gumTest.open());
      const st = await waitFor(browser.context, browser.extensionId, page, (s) => s.filter?.id === 'starry_night' && s.state === 'ok' && s.filterMs !== null, 'the style');
      assert.match(st.backend, /^tfjs-wasm/);
      await setSettings(browser.context, browser.extensionId, { mode: 'anime' });
      const av = await waitFor(browser.context, browser.extensionId, page, (s) => s.filter?.kind === 'anime' && s.state === 'ok' && s.filterMs !== null, 'the avatar');
      assert.match(av.backend, /mediapipe/, 'the face detector loaded from the package');
    } finally {
      await browser.close();
    }
  });

  it('the Firefox package installs in Firefox ESR and the camera keeps flowing', async () => {
    const ff = await launchFirefox({ extension: null });
    try {
      const id = await ff.browser.installExtension(pkgs.firefox);
      assert.equal(id, ADDON_ID);
      const page = await ff.browser.newPage();
      await page.goto(`${server.url}/index.html`);
      await page.waitForFunction(() => window.gumTest);
      // The extension's frame page, which calls load, is served from the installed package.
      const engine = await page.evaluate(async (u) => (await fetch(u)).text().catch((e) => String(e)), `${EXTENSION_ORIGIN}/engine.html`);
      assert.match(engine, /engine\.js/, 'engine.html comes from the package');
      const i = await page.evaluate(() => gumTest.open());
      const rate = await page.evaluate((i) => gumTest.rvfc(i, 2000), i);
      assert.ok(rate >= 1.3, `the camera flows through the installed extension (${rate} frames/s)`);
    } finally {
      await ff.close();
    }
  });
});
