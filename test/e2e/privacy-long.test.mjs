// The long privacy test: Chromium with every request of every context sent to a local recording
// proxy (test/e2e/lib/recording-proxy.mjs), a real WebRTC call page for over two minutes through
// every mode (runPrivacyCall). Nothing may reach the proxy but the test's own positive control,
// which proves the proxy sees what a worker of the page requests.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { launch, setHidden, setSettings, waitForFilter } from '../support/browser.mjs';
import { clipCamera, root, stillCamera } from '../support/fixtures.mjs';
import { serve } from '../support/server.mjs';
import { chromiumProxyArgs, assertPrivateCall, probeWorker, runPrivacyCall, startRecordingProxy } from './lib/recording-proxy.mjs';

// A face, so the avatar's detector and translator both run (the still picture where the clip is missing).
const CLIP = join(root, '../shared/data/video/people/d3.mp4');
const camera = existsSync(CLIP) ? clipCamera(CLIP, { width: 640, height: 360, seconds: 10 }) : stillCamera(640, 360).y4m;
let server, proxy, browser;

before(async () => {
  server = await serve();
  proxy = await startRecordingProxy();
  browser = await launch({ camera, args: chromiumProxyArgs(proxy) });
});
after(async () => {
  await browser?.close();
  await proxy?.close();
  await server?.close();
});

/** The Chromium driver of runPrivacyCall. */
function chromiumDriver() {
  const { context, extensionId } = browser;
  return {
    async openCall() {
      const page = await context.newPage();
      await page.goto(`${server.url}/demo/index.html?autostart`);
      await page.waitForFunction(() => window.demoCall?.remoteTrack, null, { timeout: 30000 });
      return page;
    },
    settings: (patch) => setSettings(context, extensionId, patch),
    waitForFilter: (page) => waitForFilter(context, extensionId, page.url(), 120000),
    async setHidden(page, hidden) {
      await setHidden(context, page, hidden);
      // Headless windows stay 'visible' when minimised: give the page a hidden tab's state too.
      await page.evaluate((hidden) => {
        Object.defineProperty(document, 'visibilityState', { get: () => (hidden ? 'hidden' : 'visible'), configurable: true });
        Object.defineProperty(document, 'hidden', { get: () => hidden, configurable: true });
        document.dispatchEvent(new Event('visibilitychange'));
      }, hidden);
    },
    async openPopup(page) {
      const probe = await context.newPage();
      await probe.goto(`chrome-extension://${extensionId}/popup.html`);
      const tabId = await probe.evaluate(async (url) => {
        for (const t of await chrome.tabs.query({})) {
          const r = await chrome.tabs.sendMessage(t.id, { ns: 'brushcam', t: 'status' }).catch(() => undefined);
          if (r?.url === url) return t.id;
        }
        return null;
      }, page.url());
      await probe.close();
      assert.ok(tabId, 'found the call tab');
      const popup = await context.newPage();
      await popup.goto(`chrome-extension://${extensionId}/popup.html?tab=${tabId}`);
      await popup.waitForFunction(() => document.getElementById('preview')?.src?.startsWith('data:image/jpeg'), null, { timeout: 20000 });
      return { close: () => popup.close() };
    },
    closeCall: (page) => page.close(),
    probeWorker,
  };
}

describe('privacy through a recording proxy', () => {
  it('a call of over two minutes through every mode makes no request outside the machine', { timeout: 600_000 }, async () => {
    const models = JSON.parse(readFileSync(join(root, 'models/manifest.json'), 'utf8')).models;
    const { timeline, seconds } = await runPrivacyCall(chromiumDriver(), models, { log: (l) => console.log(`privacy call: ${l}`) });
    assertPrivateCall(assert, proxy, { timeline, seconds }, 'privacy call');
  });
});
