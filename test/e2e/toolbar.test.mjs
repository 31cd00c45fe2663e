// End-to-end (Chromium): the toolbar button says per tab whether Brushcam paints its camera
// (badge and title: on / off / paused / error), and the keyboard shortcut (manifest `commands`,
// Ctrl+Shift+U) switches Brushcam off and on for the current tab's site in the middle of a call.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { launch, setSettings, SETTINGS_KEY } from '../support/browser.mjs';
import { root, stillCamera } from '../support/fixtures.mjs';
import { serve } from '../support/server.mjs';

const cam = stillCamera(640, 360);
let server, browser, probe;

before(async () => {
  server = await serve();
  browser = await launch({ camera: cam.y4m });
  probe = await browser.context.newPage();
  await probe.goto(`chrome-extension://${browser.extensionId}/popup.html`);
});
after(async () => {
  await browser?.close();
  await server?.close();
});

/** The id of the newest tab (the extension cannot read tabs' addresses without the "tabs" permission). */
function newestTab() {
  return probe.evaluate(async () => Math.max(...(await chrome.tabs.query({})).map((t) => t.id)));
}

/** Badge text and title of the toolbar button for the tab, and the stored settings. */
function toolbar(tabId) {
  return probe.evaluate(async ({ tabId, key }) => ({
    badge: await chrome.action.getBadgeText({ tabId }),
    title: await chrome.action.getTitle({ tabId }),
    settings: (await chrome.storage.local.get(key))[key],
  }), { tabId, key: SETTINGS_KEY });
}

async function until(tabId, pred, what, timeoutMs = 20000) {
  const end = Date.now() + timeoutMs;
  let t;
  for (;;) {
    t = await toolbar(tabId);
    if (t && pred(t)) return t;
    if (Date.now() > end) throw new Error(`${what}: not within ${timeoutMs / 1000} s; toolbar ${JSON.stringify(t)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('toolbar', () => {
  it('the manifest declares the icons, the toolbar icon and the shortcut', () => {
    const m = JSON.parse(readFileSync(join(root, 'dist/chrome/manifest.json'), 'utf8'));
    assert.deepEqual(Object.keys(m.icons), ['16', '32', '48', '128']);
    for (const [size, file] of Object.entries(m.icons)) {
      const png = readFileSync(join(root, 'dist/chrome', file));
      assert.equal(png.readUInt32BE(16), Number(size), `${file} is ${size} px wide`);
    }
    assert.ok(m.action.default_icon['16']);
    assert.equal(m.commands['toggle-site'].suggested_key.default, 'Ctrl+Shift+U');
  });

  it('shows on / paused / off / error for the tab, and the shortcut (Ctrl+Shift+U) toggles the site mid-call', async () => {
    await setSettings(browser.context, browser.extensionId, { enabled: true, mode: 'style', style: 'posterize', disabledSites: [] });
    const page = await browser.context.newPage();
    const tabId = await newestTab();
    await page.goto(`${server.url}/index.html`);
    await page.waitForFunction(() => window.gumTest);
    await until(tabId, (t) => t.badge === '' && /on for this site; no camera/.test(t.title), 'paused before the call');

    const i = await page.evaluate(() => gumTest.open());
    await until(tabId, (t) => t.badge === 'ON' && /painting your camera/.test(t.title), 'on during the call');

    // The shortcut: Chromium bound it (no conflict), and its command, fired for the call's tab as
    // the browser fires it on the key press, switches Brushcam off for this site, then on again.
    // (Key events sent over CDP reach the page, not the browser's shortcut table.)
    const commands = await probe.evaluate(() => chrome.commands.getAll());
    assert.equal(commands.find((c) => c.name === 'toggle-site')?.shortcut, 'Ctrl+Shift+U', JSON.stringify(commands));
    const press = () => browser.context.serviceWorkers()[0].evaluate(async (tabId) => {
      chrome.commands.onCommand.dispatch('toggle-site', await chrome.tabs.get(tabId));
    }, tabId);
    await press();
    const off = await until(tabId, (t) => t.badge === '' && /off for this site/.test(t.title), 'off after the shortcut');
    assert.deepEqual(off.settings.disabledSites, ['127.0.0.1']);
    assert.equal(off.settings.mode, 'style', 'the chosen filter stays');
    await press();
    const on = await until(tabId, (t) => t.badge === 'ON', 'on after the shortcut again');
    assert.deepEqual(on.settings.disabledSites, []);

    // A filter that cannot run: fail closed, and the badge says so.
    await setSettings(browser.context, browser.extensionId, { style: 'no-such-style' });
    await until(tabId, (t) => t.badge === '!' && /stopped/.test(t.title), 'error for a missing style');

    await setSettings(browser.context, browser.extensionId, { style: 'posterize' });
    await until(tabId, (t) => t.badge === 'ON', 'on again');
    await page.evaluate((i) => gumTest.stop(i), i);
    await until(tabId, (t) => t.badge === '', 'paused once the camera stopped');
    await page.close();
  });
});
