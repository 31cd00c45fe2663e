// A local recording proxy for the privacy tests, and the long privacy call that runs through it.
// The browser under test sends all of its traffic here (every context: pages, frames, extension
// pages and frames, dedicated and service workers, workers that libraries start), so nothing can
// reach the network without being counted. Loopback stays direct (the test's own call page).
// Every attempt is recorded and refused: plain HTTP requests get 403, CONNECT tunnels (HTTPS,
// WSS) and WebSocket upgrades are closed.
//
// Browser-neutral: the call scenario takes a driver (see runPrivacyCall) so the same call runs in
// Chromium (test/e2e/privacy-long.test.mjs) and in Firefox.
import { createServer } from 'node:http';

/** Starts the proxy on 127.0.0.1. `attempts`: [{ method, target, at }] in arrival order. */
export async function startRecordingProxy() {
  const attempts = [];
  const record = (method, target) => attempts.push({ method, target, at: new Date().toISOString() });
  const server = createServer((req, res) => {
    record(req.method, req.url);
    res.writeHead(403, { 'content-type': 'text/plain', connection: 'close' }).end('refused by the privacy test proxy');
  });
  server.on('connect', (req, socket) => {
    record('CONNECT', req.url);
    socket.on('error', () => {});
    socket.end('HTTP/1.1 403 Forbidden\r\nconnection: close\r\n\r\n');
  });
  server.on('upgrade', (req, socket) => {
    record(`UPGRADE ${req.headers.upgrade ?? ''}`.trim(), req.url);
    socket.on('error', () => {});
    socket.destroy();
  });
  server.on('clientError', (err, socket) => socket.destroy());
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    attempts,
    close: () => new Promise((resolve) => {
      server.closeAllConnections?.();
      server.close(() => resolve());
    }),
  };
}

/**
 * Chromium flags that send every request of every context through `proxy` (loopback stays
 * direct, as Chromium does by default).
 *
 * Chromium itself, with or without any extension, checks for component and extension updates
 * (update.googleapis.com) and talks to its sign-in service (accounts.google.com) within the first
 * minute, whatever --disable-background-networking says. Those are the browser's services, at
 * addresses set by these switches, never requests a page or an extension makes: they point at a
 * closed loopback port here, so that anything the proxy sees comes from the pages and extensions.
 */
export function chromiumProxyArgs(proxy) {
  const nowhere = 'http://127.0.0.1:9';
  return [
    `--proxy-server=http://127.0.0.1:${proxy.port}`, '--disable-quic',
    `--gaia-url=${nowhere}`, `--lso-url=${nowhere}`, `--component-updater=url-source=${nowhere}/`, `--apps-gallery-update-url=${nowhere}/`,
  ];
}

/**
 * Firefox preferences that do the same (for a profile's user.js or puppeteer's
 * `extraPrefsFirefox`): every protocol through the proxy, nothing bypassed but loopback. The
 * second half turns off Firefox's own services that call home on a fresh profile (captive
 * portal and connectivity checks, Safe Browsing, remote settings, telemetry, updates), the
 * counterpart of chromiumProxyArgs' loopback redirects: the proxy then counts pages and
 * extensions only. Puppeteer's own Firefox defaults already cover most of them.
 */
/**
 * Environment for Firefox under the recording proxy: release builds take the Remote Settings
 * address (`services.settings.server` above) only with this set; without it Firefox fetches its
 * remote settings from firefox.settings.services.mozilla.com at start, with or without any add-on.
 */
export const FIREFOX_PROXY_ENV = { MOZ_REMOTE_SETTINGS_DEVTOOLS: '1' };

export function firefoxProxyPrefs(proxy) {
  return {
    'network.proxy.type': 1,
    'network.proxy.http': '127.0.0.1',
    'network.proxy.http_port': proxy.port,
    'network.proxy.ssl': '127.0.0.1',
    'network.proxy.ssl_port': proxy.port,
    'network.proxy.share_proxy_settings': true,
    'network.proxy.no_proxies_on': '',
    'network.proxy.allow_hijacking_localhost': false,
    'network.proxy.socks_remote_dns': false,
    'network.http.http3.enable': false,
    'network.dns.disablePrefetch': true,
    'network.prefetch-next': false,
    'network.captive-portal-service.enabled': false,
    'network.connectivity-service.enabled': false,
    'browser.safebrowsing.malware.enabled': false,
    'browser.safebrowsing.phishing.enabled': false,
    'browser.safebrowsing.downloads.enabled': false,
    'browser.safebrowsing.blockedURIs.enabled': false,
    'services.settings.server': 'http://127.0.0.1:9/v1',
    'toolkit.telemetry.enabled': false,
    'datareporting.healthreport.uploadEnabled': false,
    'datareporting.policy.dataSubmissionEnabled': false,
    'app.update.disabledForTesting': true,
    'extensions.update.enabled': false,
    'extensions.getAddons.cache.enabled': false,
    'browser.region.network.url': '',
    'browser.search.update': false,
  };
}

/** The proxy's attempts that are not the test's own positive controls (hosts ending in .invalid). */
export function foreignAttempts(proxy) {
  return proxy.attempts.filter((a) => !/\.invalid(:\d+)?(\/|$)/.test(a.target));
}

/**
 * The positive control: a dedicated worker of `page` (Playwright's or Puppeteer's page) fetches
 * `url`; the proxy must see it.
 */
export async function probeWorker(page, url) {
  await page.evaluate(async (url) => {
    const src = `fetch(${JSON.stringify(url)}).then(() => postMessage('done'), () => postMessage('done'))`;
    const w = new Worker(URL.createObjectURL(new Blob([src], { type: 'text/javascript' })));
    await new Promise((r) => (w.onmessage = r));
    w.terminate();
  }, url);
}

/**
 * The verdict on a privacy call: it lasted two minutes, went through every kind of step, the
 * proxy saw the control, and nothing else tried to leave.
 */
export function assertPrivateCall(assert, proxy, { timeline, seconds }, label) {
  assert.ok(seconds >= 120, `the call lasted ${seconds.toFixed(0)} s`);
  for (const what of ['off', 'face-swap', 'full-avatar', 'with stability', 'tab hidden']) {
    assert.ok(timeline.some((s) => s.what.includes(what)), `the call went through '${what}'`);
  }
  assert.ok(proxy.attempts.some((a) => a.target.includes('privacy-proxy-check.invalid')), `the proxy saw the page worker's control request: ${JSON.stringify(proxy.attempts)}`);
  console.log(`${label}: ${seconds.toFixed(0)} s, ${proxy.attempts.length} proxy attempt(s) in all (the control included)`);
  assert.deepEqual(foreignAttempts(proxy), [], 'requests that tried to leave the machine');
}

/**
 * The long privacy call: a real WebRTC call page (demo/index.html?autostart) for at least two
 * minutes through every mode: off, the avatar in both presentations (the first for over 60 s: a
 * library flushing usage logs a minute after a task starts, or when it closes, is caught), every
 * style, a style with the stability option, a hidden tab, the popup open; then the page closes
 * and the proxy is watched a few seconds more. Returns { timeline, seconds }.
 *
 * `driver` (browser-specific):
 *   openCall(): Promise<page>                 opens the call page and waits for the remote video
 *   settings(patch): Promise<void>            writes settings as the popup does
 *   waitForFilter(page): Promise<void>        the newest pipeline runs its filter (or is off)
 *   setHidden(page, hidden): Promise<void>    hides/shows the tab (document.visibilityState)
 *   openPopup(): Promise<{ close(): Promise<void> }>  the popup open on the call's tab, previews on
 *   closeCall(page): Promise<void>
 *   probeWorker(page, url): Promise<void>     positive control: a worker of the page fetches url
 * `models`: models/manifest.json's entries. `log`: progress lines.
 */
export async function runPrivacyCall(driver, models, { avatarSeconds = 65, styleSeconds = 5, log = () => {} } = {}) {
  const timeline = [];
  const t0 = Date.now();
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const step = async (what, patch, seconds, during) => {
    await driver.settings(patch);
    await driver.waitForFilter(page);
    const at = (Date.now() - t0) / 1000;
    log(`${at.toFixed(0)} s: ${what}`);
    timeline.push({ at, what });
    if (during) await during();
    await sleep(seconds * 1000);
  };
  const styles = models.filter((m) => m.kind === 'style').map((m) => m.id);
  const avatars = models.filter((m) => m.kind === 'avatar' && m.folder).map((m) => m.id);
  await driver.settings({ mode: 'off', stability: false, batterySaver: false });
  const page = await driver.openCall();
  await step('off', { mode: 'off' }, 4);
  // The first avatar, face swap, long enough for a one-minute flush; the popup open meanwhile.
  await step(`avatar ${avatars[0]} face-swap`, { mode: 'anime', avatar: avatars[0], presentation: 'face-swap' }, avatarSeconds, async () => {
    const popup = await driver.openPopup(page);
    await sleep(8000);
    await popup.close();
  });
  await step(`avatar ${avatars[0]} full-avatar`, { mode: 'anime', avatar: avatars[0], presentation: 'full-avatar' }, 8);
  for (const id of avatars.slice(1)) await step(`avatar ${id} face-swap`, { mode: 'anime', avatar: id, presentation: 'face-swap' }, 4);
  for (const id of styles) await step(`style ${id}`, { mode: 'style', style: id }, styleSeconds);
  const neural = models.find((m) => m.kind === 'style' && m.folder)?.id ?? styles[0];
  await step(`style ${neural} with stability`, { mode: 'style', style: neural, stability: true }, styleSeconds);
  await step(`style ${neural}, tab hidden`, { mode: 'style', style: neural, stability: false }, 0, async () => {
    await driver.setHidden(page, true);
    await sleep(8000);
    await driver.setHidden(page, false);
  });
  await step('off again', { mode: 'off' }, 3);
  // Positive control: a request the proxy must see (a worker of the page; .invalid never resolves).
  await driver.probeWorker(page, 'https://privacy-proxy-check.invalid/probe');
  const seconds = (Date.now() - t0) / 1000;
  await driver.closeCall(page);
  timeline.push({ at: seconds, what: 'call closed' });
  await sleep(5000); // flushes on close
  return { timeline, seconds };
}
