// Launches Debian's Firefox ESR with Brushcam installed, driven by puppeteer-core over WebDriver
// BiDi (no geckodriver), with Firefox's fake camera and microphone. Any end-to-end test can run
// in real Firefox through this: launchFirefox() gives the browser and helpers that write settings
// and read the popup's status from a test page (BiDi cannot open moz-extension:// pages, so the
// test build build/firefox-test carries a test-only content script for that; see
// src/testing/). Pass `extension: FIREFOX_DIST` to run the shipped dist/firefox instead (no hooks).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer from 'puppeteer-core';
import { root } from './fixtures.mjs';

export const FIREFOX = process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr';
export const FIREFOX_TEST_BUILD = join(root, 'build/firefox-test');
export const FIREFOX_DIST = join(root, 'dist/firefox');
export const ADDON_ID = 'brushcam@brushcam.app';
/** The moz-extension:// host the add-on gets (fixed by the extensions.webextensions.uuids pref). */
export const EXTENSION_UUID = '6b1f0c4e-1d2a-4c5b-9e8f-b7a6c5d4e3f2';
export const EXTENSION_ORIGIN = `moz-extension://${EXTENSION_UUID}`;

/**
 * Starts Firefox ESR headless with the fake camera; installs `extension` (a folder) as a
 * temporary add-on unless it is null. `prefs` are extra about:config prefs, `env` extra
 * environment variables for Firefox.
 */
export async function launchFirefox({ extension = FIREFOX_TEST_BUILD, prefs = {}, headless = true, env = {} } = {}) {
  const profile = mkdtempSync(join(tmpdir(), 'brushcam-firefox-'));
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: FIREFOX,
    headless,
    userDataDir: profile,
    env: { ...process.env, ...env },
    extraPrefsFirefox: {
      'media.navigator.streams.fake': true,
      'media.navigator.permission.disabled': true,
      'media.autoplay.default': 0,
      'extensions.webextensions.uuids': JSON.stringify({ [ADDON_ID]: EXTENSION_UUID }),
      // Nothing from the network: no updates, telemetry or remote settings in the tests.
      'app.update.enabled': false,
      'browser.shell.checkDefaultBrowser': false,
      'datareporting.policy.dataSubmissionEnabled': false,
      ...prefs,
    },
  });
  if (extension) await browser.installExtension(extension);
  const close = async () => {
    await browser.close().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
  };
  return { browser, close };
}

/** One request to the test build's hook in `page` (top frame), answered by the extension. */
async function hook(page, t, patch) {
  const r = await page.evaluate((t, patch) => new Promise((resolve) => {
    const id = Math.random();
    const on = (e) => {
      if (e.source !== window || e.data?.ns !== 'brushcam-test' || e.data.t !== 'reply' || e.data.id !== id) return;
      window.removeEventListener('message', on);
      resolve({ result: e.data.result, error: e.data.error });
    };
    window.addEventListener('message', on);
    window.postMessage({ ns: 'brushcam-test', id, t, patch }, '*');
    setTimeout(() => resolve({ result: null, error: 'the test hook did not answer (is this build/firefox-test?)' }), 10000);
  }), t, patch ?? null);
  if (r.error) throw new Error(`test hook ${t}: ${r.error}`);
  return r.result;
}

/** Writes settings as the popup would (merged over what is stored). */
export function setSettings(page, patch) {
  return hook(page, 'settings', patch);
}

/** What the popup would show for the page's tab: the status reply of the frame that runs a camera. */
export function extensionStatus(page) {
  return hook(page, 'status');
}

/** The toolbar button of the page's tab: {badge, title, settings}. */
export function toolbarState(page) {
  return hook(page, 'toolbar');
}

/** The popup's preview request for the page's tab (what the open popup asks every 300 ms). */
export function requestPreview(page) {
  return hook(page, 'preview');
}

/** A hook request by name (`ping`, `storage`: probes that do nothing but talk to the extension). */
export function hookRequest(page, t) {
  return hook(page, t);
}

/** Waits until the newest pipeline's status satisfies `pred`; returns it. */
export async function waitForPipeline(page, pred, what, timeoutMs = 60000) {
  const end = Date.now() + timeoutMs;
  let st;
  for (;;) {
    st = (await extensionStatus(page))?.pipelines?.at(-1);
    if (st && pred(st)) return st;
    if (Date.now() > end) throw new Error(`${what}: not within ${timeoutMs / 1000} s; last status ${JSON.stringify(st)}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}
