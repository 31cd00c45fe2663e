// A hostile page against Brushcam's MAIN-world script: it replaces the built-ins that script
// shares with it (MessagePort and Worker methods and setters, MessageEvent getters,
// EventTarget, Function.prototype call/apply/bind, array, Set and WeakMap methods, array
// iteration, getters on Object.prototype, JSON.stringify, RegExp.test, Promise.then) after
// document_start, as any page script runs, then makes a call while the user changes the filter
// and the popup asks for previews. It must catch none of Brushcam's ports, workers, bridge
// messages, settings or control objects, and what it forges with whatever it has must not
// change the filter the user chose (test/pages/attacks.js).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { extensionStatus, launch, setSettings } from '../support/browser.mjs';
import { stillCamera } from '../support/fixtures.mjs';
import { serve } from '../support/server.mjs';

const cam = stillCamera(640, 360);
const REF = '/fixtures/still2-640x360.png';
let server, browser;

before(async () => {
  server = await serve();
  browser = await launch({ camera: cam.y4m });
});
after(async () => {
  await browser?.close();
  await server?.close();
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const settings = (patch) => setSettings(browser.context, browser.extensionId, patch);

/** Asks every tab for previews as the open popup does, for `ms`. */
async function previewsFor(ms) {
  const p = await browser.context.newPage();
  try {
    await p.goto(`chrome-extension://${browser.extensionId}/popup.html`);
    return await p.evaluate(async (ms) => {
      let got = 0;
      const end = Date.now() + ms;
      while (Date.now() < end) {
        for (const t of await chrome.tabs.query({})) {
          const r = await chrome.tabs.sendMessage(t.id, { ns: 'brushcam', t: 'preview' }).catch(() => undefined);
          if (r?.dataUrl) got++;
        }
        await new Promise((r) => setTimeout(r, 250));
      }
      return got;
    }, ms);
  } finally {
    await p.close();
  }
}

for (const [name, path, placement] of [['a page that allows workers', '/attacks.html', 'worker'], ['a strict-CSP page (filter on its main thread)', '/strict/attacks.html', 'main-thread']]) {
  describe(`hostile page: ${name}`, () => {
    it('catches nothing of Brushcam with replaced built-ins, and cannot switch the filter off', async () => {
      await settings({ mode: 'off' });
      const page = await browser.context.newPage();
      try {
        await page.goto(`${server.url}${path}`);
        await page.waitForFunction(() => window.gumTest && window.attack);
        await page.evaluate(() => attack.install());
        const i = await page.evaluate(() => gumTest.open());
        // The user picks a style while the traps are set: the settings cross the bridge now.
        await settings({ mode: 'style', style: 'posterize' });
        let r;
        for (let k = 0; k < 30; k++) {
          r = await page.evaluate(([i, ref]) => gumTest.compare(i, ref), [i, REF]);
          if (r.diffPosterized < 4) break;
          await sleep(300);
        }
        assert.ok(r.diffPosterized < 4 && r.diffRaw > 10, `posterized under the traps (${JSON.stringify(r)})`);
        assert.ok(await previewsFor(3000) > 0, 'the popup got previews through the bridge meanwhile');
        await sleep(2200); // two status reports more
        const caught = await page.evaluate(() => attack.summary());
        assert.deepEqual(caught, { ports: 0, workers: 0, messages: 0, specs: 0, controls: 0, where: [] }, 'what the page caught');

        // Whatever it holds, forged messages and synthetic events change nothing.
        await page.evaluate(() => attack.forge());
        await page.evaluate(() => {
          for (const type of ['brushcam:hello-from-isolated', 'brushcam:hello-from-main']) {
            const ch = new MessageChannel();
            document.dispatchEvent(new MessageEvent(type, { ports: [ch.port2], cancelable: true }));
            ch.port1.postMessage({ ns: 'brushcam', t: 'config', filter: { kind: 'off' }, assetBase: 'chrome-extension://abcdefghijklmnopabcdefghijklmnop/' });
          }
        });
        await sleep(1500);
        const after = await page.evaluate(([i, ref]) => gumTest.compare(i, ref), [i, REF]);
        assert.ok(after.diffPosterized < 4 && after.diffRaw > 10, `still posterized after the forgeries (${JSON.stringify(after)})`);
        const st = (await extensionStatus(browser.context, browser.extensionId, page.url())).pipelines.at(-1);
        assert.deepEqual([st.filter?.kind, st.filter?.id, st.placement], ['style', 'posterize', placement]);
      } finally {
        await page.close();
      }
    });
  });
}
