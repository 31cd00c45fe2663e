// The Firefox path in Chromium: the page's breakout-box APIs (MediaStreamTrackProcessor,
// MediaStreamTrackGenerator, VideoTrackGenerator) are removed before any script runs, as in
// browsers that lack them, so the built extension must run on its own polyfill
// (<video> + requestVideoFrameCallback in, canvas.captureStream out). Real Firefox runs
// test/e2e/firefox.test.mjs.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { extensionStatus, launch, setSettings } from '../support/browser.mjs';
import { MARKER, root, stillCamera } from '../support/fixtures.mjs';
import { serve } from '../support/server.mjs';

const cam = stillCamera(640, 360);
const REF = '/fixtures/still2-640x360.png';
const neural = JSON.parse(readFileSync(join(root, 'models/manifest.json'), 'utf8')).models.find((m) => m.kind === 'style' && m.folder);
let server, browser;

before(async () => {
  server = await serve();
  browser = await launch({ camera: cam.y4m });
  await browser.context.addInitScript(() => {
    window.__testMediaStreamTrackProcessor = window.MediaStreamTrackProcessor;
    for (const k of ['MediaStreamTrackProcessor', 'MediaStreamTrackGenerator', 'VideoTrackGenerator']) delete window[k];
  });
});
after(async () => {
  await browser?.close();
  await server?.close();
});

async function waitFor(page, pred, what, timeoutMs = 60000) {
  const end = Date.now() + timeoutMs;
  let st;
  for (;;) {
    st = (await extensionStatus(browser.context, browser.extensionId, page.url()))?.pipelines?.at(-1);
    if (st && pred(st)) return st;
    if (Date.now() > end) throw new Error(`${what}: not within ${timeoutMs / 1000} s; last status ${JSON.stringify(st)}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

describe('without breakout-box APIs (the Firefox path)', () => {
  it('runs on the polyfill: off is the camera, posterize and a neural style filter live, the marker never leaks', async () => {
    await setSettings(browser.context, browser.extensionId, { mode: 'off' });
    const page = await browser.context.newPage();
    try {
      await page.goto(`${server.url}/index.html`);
      await page.waitForFunction(() => window.gumTest);
      assert.equal(await page.evaluate(() => typeof MediaStreamTrackProcessor), 'undefined', 'the page has no breakout box');
      const i = await page.evaluate(() => gumTest.open());
      const off = await waitFor(page, (s) => s.state === 'off', 'off');
      assert.equal(off.frames, 'polyfill');
      const raw = await page.evaluate(([i, ref]) => gumTest.compare(i, ref, 5), [i, REF]);
      assert.deepEqual([raw.width, raw.height], [640, 360]);
      assert.ok(raw.diffRaw < 6, `off: the camera as it is (mean |diff| ${raw.diffRaw.toFixed(1)})`);

      await setSettings(browser.context, browser.extensionId, { mode: 'style', style: 'posterize' });
      await waitFor(page, (s) => s.filter?.id === 'posterize' && s.state === 'ok' && s.filterMs !== null, 'posterize');
      await new Promise((r) => setTimeout(r, 500));
      const post = await page.evaluate(([i, ref]) => gumTest.compare(i, ref, 5), [i, REF]);
      assert.ok(post.diffPosterized < 6, `posterize(camera) (mean |diff| ${post.diffPosterized.toFixed(1)})`);

      if (neural) {
        await setSettings(browser.context, browser.extensionId, { style: neural.id, backend: 'wasm' });
        // (The previous filter runs until the new one is ready: wait for the engine's backend.)
        await waitFor(page, (s) => s.filter?.id === neural.id && s.state === 'ok' && /^tfjs-wasm/.test(s.backend ?? ''), neural.id);
        await new Promise((r) => setTimeout(r, 1500));
        await page.evaluate(([i, m]) => gumTest.watch(i, m), [i, MARKER]);
        await new Promise((r) => setTimeout(r, 4000));
        const w = await page.evaluate((i) => gumTest.watched(i, true), i);
        const r = await page.evaluate(([i, ref, m]) => gumTest.compare(i, ref, 3, m), [i, REF, MARKER]);
        console.log(`polyfill + ${neural.id}: ${w.frames} frames in 4 s, raw ${w.raw}, max marker contrast ${w.maxContrast.toFixed(1)}, diff to camera ${r.diffRaw.toFixed(1)}`);
        assert.equal(w.raw, 0, 'no raw frame');
        assert.ok(w.frames > 0, 'frames flow');
        assert.ok(r.diffRaw > 12, 'styled, not the camera');
      }
    } finally {
      await page.close();
    }
  });
});
