// The long privacy test in real Firefox ESR: every request of every context goes to a local
// recording proxy (test/e2e/lib/recording-proxy.mjs, Firefox's proxy preferences with nothing
// bypassed but loopback), and a real WebRTC call page runs for over two minutes through every mode
// (runPrivacyCall, the same call as Chromium's). Nothing may reach the proxy but the test's own
// positive control, a worker of the page. Modes are set through the test build's hook (BiDi cannot
// open the popup); the open popup is played by asking the call's tab for previews as it does.
// Where headless Firefox has no WebGL the avatar's face detector runs on tfjs instead of
// MediaPipe: every mode, the avatar included, must be seen running (a filter that failed would
// hide what it would have sent).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { launchFirefox, requestPreview, setSettings, waitForPipeline } from '../support/firefox.mjs';
import { root } from '../support/fixtures.mjs';
import { serve } from '../support/server.mjs';
import { FIREFOX_PROXY_ENV, firefoxProxyPrefs, assertPrivateCall, probeWorker, runPrivacyCall, startRecordingProxy } from './lib/recording-proxy.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let server, proxy, ff, control;

before(async () => {
  server = await serve();
  proxy = await startRecordingProxy();
  ff = await launchFirefox({ prefs: firefoxProxyPrefs(proxy), env: FIREFOX_PROXY_ENV });
  // A page of the test server whose hook writes settings before the call page exists.
  control = await ff.browser.newPage();
  await control.goto(`${server.url}/index.html`);
});
after(async () => {
  await ff?.close();
  await proxy?.close();
  await server?.close();
});

function firefoxDriver() {
  return {
    async openCall() {
      const page = await ff.browser.newPage();
      await page.goto(`${server.url}/demo/index.html?autostart`);
      await page.waitForFunction(() => window.demoCall?.remoteTrack, { timeout: 60000 });
      return page;
    },
    settings: (patch) => setSettings(control, patch),
    // A filter runs or is off: not loading, and not failed.
    waitForFilter: (page) => waitForPipeline(page, (s) => s.state === 'off' || (s.state === 'ok' && s.filterMs !== null), 'filter', 180000),
    async setHidden(page, hidden) {
      if (hidden) {
        this.other = await ff.browser.newPage();
        await this.other.bringToFront();
        await sleep(500);
        assert.equal(await page.evaluate(() => document.visibilityState), 'hidden');
      } else {
        await this.other?.close();
        await page.bringToFront();
      }
    },
    async openPopup(page) {
      let open = true;
      let previews = 0;
      const loop = (async () => {
        while (open) {
          const r = await requestPreview(page).catch(() => null);
          if (r?.dataUrl?.startsWith('data:image/jpeg')) previews++;
          await sleep(300);
        }
      })();
      return {
        close: async () => {
          open = false;
          await loop;
          assert.ok(previews > 0, 'the call tab answered the popup\'s preview requests');
        },
      };
    },
    closeCall: (page) => page.close(),
    probeWorker,
  };
}

describe('privacy through a recording proxy, in Firefox ESR', () => {
  it('a call of over two minutes through every mode makes no request outside the machine', { timeout: 900_000 }, async () => {
    const models = JSON.parse(readFileSync(join(root, 'models/manifest.json'), 'utf8')).models;
    const { timeline, seconds } = await runPrivacyCall(firefoxDriver(), models, { log: (l) => console.log(`firefox privacy call: ${l}`) });
    assertPrivateCall(assert, proxy, { timeline, seconds }, 'firefox privacy call');
  });
});
