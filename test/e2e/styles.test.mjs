// End-to-end: every trained painting style of models/manifest.json, chosen as the popup does,
// is applied live by the built extension (neural filter engine in the extension frame).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { engineThreads, extensionStatus, launch, setSettings } from '../support/browser.mjs';
import { MARKER, root, stillCamera } from '../support/fixtures.mjs';
import { serve } from '../support/server.mjs';

const cam = stillCamera(640, 360);
const REF = '/fixtures/still2-640x360.png';
const styles = JSON.parse(readFileSync(join(root, 'models/manifest.json'), 'utf8')).models.filter((m) => m.kind === 'style' && m.folder);
let server, browser;

before(async () => {
  server = await serve();
  browser = await launch({ camera: cam.y4m });
});
after(async () => {
  await browser?.close();
  await server?.close();
});

const status = (page) => extensionStatus(browser.context, browser.extensionId, page.url());

async function waitForStyle(page, id, timeoutMs = 60000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const st = (await status(page))?.pipelines?.[0];
    if (st?.filter?.id === id && st.state === 'ok' && /^tfjs-wasm/.test(st.backend ?? '') && st.filterMs !== null) return st;
    if (st?.state === 'failed') throw new Error(`style ${id} failed: ${st.lastError}`);
    if (Date.now() > end) throw new Error(`style ${id} did not start: ${JSON.stringify(st)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

const dist = (a, b) => a.reduce((s, v, i) => s + Math.abs(v - b[i]), 0) / a.length;

describe('painting styles', () => {
  it('ships at least five trained styles', () => {
    assert.ok(styles.length >= 5, `models/manifest.json lists ${styles.length} trained styles: ${styles.map((s) => s.id)}`);
  });

  for (const path of ['/index.html', '/strict/index.html']) {
    it(`applies every style live on ${path} without a new camera request`, async () => {
      await setSettings(browser.context, browser.extensionId, { mode: 'style', style: styles[0].id, backend: 'wasm' });
      const page = await browser.context.newPage();
      try {
        await page.goto(`${server.url}${path}`);
        await page.waitForFunction(() => window.gumTest);
        const i = await page.evaluate(() => gumTest.open());
        const sigs = [];
        for (const s of styles) {
          await setSettings(browser.context, browser.extensionId, { style: s.id });
          const st = await waitForStyle(page, s.id);
          assert.equal(st.placement, path.startsWith('/strict') ? 'main-thread' : 'worker');
          await new Promise((r) => setTimeout(r, 1500)); // past the previous style's last frames
          const r = await page.evaluate(([i, ref, m]) => gumTest.compare(i, ref, 3, m), [i, REF, MARKER]);
          assert.deepEqual([r.width, r.height], [640, 360]);
          assert.ok(r.diffRaw > 12, `${s.id}: output must differ from the camera (mean |diff| ${r.diffRaw.toFixed(1)})`);
          assert.ok(r.markerContrast < 12, `${s.id}: the raw-only marker must not survive (contrast ${r.markerContrast.toFixed(1)})`);
          sigs.push({ id: s.id, sig: await page.evaluate((i) => gumTest.signature(i), i) });
        }
        for (let a = 0; a < sigs.length; a++) {
          for (let b = a + 1; b < sigs.length; b++) {
            const d = dist(sigs[a].sig, sigs[b].sig);
            assert.ok(d > 4, `${sigs[a].id} and ${sigs[b].id} should look different (mean |diff| ${d.toFixed(1)})`);
          }
        }
        const st = await status(page);
        assert.equal(st.cameras.length, 1, 'style switches never asked for the camera again');
      } finally {
        await page.close();
      }
    });
  }

  it('Chromium runs the engine in the cross-origin isolated offscreen document, which chose its WASM threads by timing', async () => {
    await setSettings(browser.context, browser.extensionId, { mode: 'style', style: styles[0].id, backend: 'wasm' });
    const page = await browser.context.newPage();
    try {
      await page.goto(`${server.url}/index.html`);
      await page.waitForFunction(() => window.gumTest);
      const i = await page.evaluate(() => gumTest.open());
      const st = await waitForStyle(page, styles[0].id);
      const t = await engineThreads(page);
      assert.equal(t.where, 'offscreen', 'the engine frame routed its session to the offscreen engine');
      assert.equal(t.isolated, true, 'the offscreen engine worker can run WASM threads');
      // both counts were timed on this style's frame, and the faster kept (see src/engine/threads.ts)
      const counts = Object.keys(t.threadMs ?? {}).map(Number).sort((a, b) => a - b);
      assert.equal(counts.length, 2, `one thread and several timed: ${JSON.stringify(t)}`);
      assert.ok(counts[0] === 1 && counts[1] >= 2, `one thread and several timed: ${JSON.stringify(t)}`);
      const faster = t.threadMs[counts[1]] < 0.9 * t.threadMs[1] ? counts[1] : 1;
      assert.equal(t.threads, faster, `threads kept: ${JSON.stringify(t)}`);
      assert.equal(/\((\d+) threads\)/.exec(st.backend)?.[1] ?? '1', String(faster), `the status names the threads: ${st.backend}`);
      await new Promise((r) => setTimeout(r, 1500));
      const r = await page.evaluate(([i, ref, m]) => gumTest.compare(i, ref, 3, m), [i, REF, MARKER]);
      assert.ok(r.diffRaw > 12, `styled through the offscreen engine (mean |diff| ${r.diffRaw.toFixed(1)})`);
      assert.ok(r.markerContrast < 12, `the raw-only marker must not survive (contrast ${r.markerContrast.toFixed(1)})`);
    } finally {
      await page.close();
    }
  });

  it('the popup\'s stability option reaches the engine and the style stays live, marker hidden', async () => {
    await setSettings(browser.context, browser.extensionId, { mode: 'style', style: styles[0].id, backend: 'wasm', stability: false });
    const page = await browser.context.newPage();
    try {
      await page.goto(`${server.url}/index.html`);
      await page.waitForFunction(() => window.gumTest);
      const i = await page.evaluate(() => gumTest.open());
      await waitForStyle(page, styles[0].id);
      await setSettings(browser.context, browser.extensionId, { stability: true });
      const end = Date.now() + 60000;
      let st;
      do {
        await new Promise((r) => setTimeout(r, 500));
        st = (await status(page))?.pipelines?.[0];
      } while (!(st?.filter?.stable === true && st.state === 'ok' && st.filterMs !== null) && Date.now() < end);
      assert.equal(st?.filter?.stable, true, `the filter spec carries the option: ${JSON.stringify(st?.filter)}`);
      await new Promise((r) => setTimeout(r, 1500));
      const r = await page.evaluate(([i, ref, m]) => gumTest.compare(i, ref, 3, m), [i, REF, MARKER]);
      assert.ok(r.diffRaw > 12, `stabilised output must still be the style (mean |diff| ${r.diffRaw.toFixed(1)})`);
      assert.ok(r.markerContrast < 12, `the raw-only marker must not survive (contrast ${r.markerContrast.toFixed(1)})`);
      assert.equal((await status(page)).cameras.length, 1, 'toggling stability never asked for the camera again');
    } finally {
      await page.close();
      await setSettings(browser.context, browser.extensionId, { stability: false });
    }
  });
});
