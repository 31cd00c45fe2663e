// End-to-end: the built extension (dist/chrome) in Debian's Chromium with a fake camera that
// plays a still picture, on unmodified local pages.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { launch, setSettings } from '../support/browser.mjs';
import { stillCamera } from '../support/fixtures.mjs';
import { serve } from '../support/server.mjs';

const cam = stillCamera(640, 360);
let server, browser;

before(async () => {
  server = await serve();
  browser = await launch({ camera: cam.y4m });
});
after(async () => {
  await browser?.close();
  await server?.close();
});

/** Asks the extension (as the popup does) for the status of every tab that has a camera. */
async function extensionStatus() {
  const page = await browser.context.newPage();
  try {
    await page.goto(`chrome-extension://${browser.extensionId}/popup.html`);
    return await page.evaluate(async () => {
      const tabs = await chrome.tabs.query({});
      const replies = await Promise.all(tabs.map((t) => chrome.tabs.sendMessage(t.id, { ns: 'brushcam', t: 'status' }).catch(() => undefined)));
      return replies.filter(Boolean);
    });
  } finally {
    await page.close();
  }
}

async function openPage(path = '/index.html') {
  const page = await browser.context.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(`${server.url}${path}`);
  await page.waitForFunction(() => window.gumTest);
  return page;
}

const REF = '/fixtures/still2-640x360.png';

describe('extension on a plain page', () => {
  it('passes the camera through untouched when off, and posterizes when a style is on', async () => {
    await setSettings(browser.context, browser.extensionId, { mode: 'off' });
    const page = await openPage();
    const i = await page.evaluate(() => gumTest.open());
    const off = await page.evaluate(([i, ref]) => gumTest.compare(i, ref), [i, REF]);
    assert.equal(off.width, 640);
    assert.equal(off.height, 360);
    assert.ok(off.diffRaw < 4, `off should equal the camera, mean |diff| ${off.diffRaw}`);

    await setSettings(browser.context, browser.extensionId, { mode: 'style', style: 'posterize' });
    await page.waitForTimeout(500);
    const on = await page.evaluate(([i, ref]) => gumTest.compare(i, ref), [i, REF]);
    assert.ok(on.diffRaw > 10, `posterized output should differ from the camera, mean |diff| ${on.diffRaw}`);
    assert.ok(on.diffPosterized < on.diffRaw / 3, `output should match posterize(camera): ${JSON.stringify(on)}`);
    const status = await extensionStatus();
    console.log(JSON.stringify(status, null, 1));
    await page.close();
  });
});
