// Launches Debian's Chromium with the built extension loaded and a fake camera, driven by
// playwright-core. Returns the context, the extension id and helpers to change settings
// the way the popup does.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { root } from './fixtures.mjs';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SETTINGS_KEY = 'brushcam.settings';

export async function launch({ camera = null, headless = true, extension = join(root, 'dist/chrome'), args = [] } = {}) {
  const userDataDir = mkdtempSync(join(tmpdir(), 'brushcam-profile-'));
  const flags = [
    '--no-sandbox', '--disable-gpu-sandbox', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--disable-quic', '--enable-unsafe-swiftshader',
    '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream=device-count=2', '--autoplay-policy=no-user-gesture-required',
    ...(camera ? [`--use-file-for-fake-video-capture=${camera}`] : []),
    ...(extension ? [`--disable-extensions-except=${extension}`, `--load-extension=${extension}`] : []),
    // BRUSHCAM_BROWSER_LOG=1 (with DEBUG=pw:browser): every page's, worker's and engine's console on stderr
    ...(process.env.BRUSHCAM_BROWSER_LOG ? ['--enable-logging=stderr', '--v=0'] : []),
    ...args,
  ];
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless,
    args: flags,
    ignoreDefaultArgs: ['--disable-extensions', '--disable-component-extensions-with-background-pages'],
    viewport: { width: 1000, height: 700 },
  });
  let extensionId = null;
  if (extension) {
    let [sw] = context.serviceWorkers();
    if (!sw) sw = await context.waitForEvent('serviceworker', { timeout: 15000 });
    extensionId = new URL(sw.url()).host;
  }
  const close = async () => {
    await context.close().catch(() => {});
    rmSync(userDataDir, { recursive: true, force: true });
  };
  return { context, extensionId, close };
}

/** Writes settings as the popup would (from an extension page). */
export async function setSettings(context, extensionId, patch) {
  const page = await context.newPage();
  try {
    await page.goto(`chrome-extension://${extensionId}/popup.html`);
    await page.evaluate(async ({ key, patch }) => {
      const cur = (await chrome.storage.local.get(key))[key] ?? {};
      await chrome.storage.local.set({ [key]: { version: 2, enabled: true, mode: 'off', style: 'posterize', avatar: 'anime', presentation: 'face-swap', disabledSites: [], mirrorPreview: false, ...cur, ...patch } });
    }, { key: SETTINGS_KEY, patch });
  } finally {
    await page.close();
  }
}

/** Hides a page the way minimising its window does (document.visibilityState 'hidden'). */
export async function setHidden(context, page, hidden) {
  const cdp = await context.newCDPSession(page);
  try {
    const { windowId } = await cdp.send('Browser.getWindowForTarget');
    await cdp.send('Browser.setWindowBounds', { windowId, bounds: { windowState: hidden ? 'minimized' : 'normal' } });
  } finally {
    await cdp.detach().catch(() => {});
  }
}

/** Every frame's status reply (what the popup shows), from an extension page. */
export async function allStatus(context, extensionId) {
  const p = await context.newPage();
  try {
    await p.goto(`chrome-extension://${extensionId}/popup.html`);
    return await p.evaluate(async () => {
      const tabs = await chrome.tabs.query({});
      return (await Promise.all(tabs.map((t) => chrome.tabs.sendMessage(t.id, { ns: 'brushcam', t: 'status' }).catch(() => undefined)))).filter(Boolean);
    });
  } finally {
    await p.close();
  }
}

/** The extension's status for the frame at `url`, or undefined. */
export async function extensionStatus(context, extensionId, url) {
  return (await allStatus(context, extensionId)).find((s) => s.url === url);
}

/**
 * Waits until the newest pipeline of the frame at `url` runs its filter (or is off). With
 * `filterId`, until it runs that filter: after a live switch the status still shows the previous
 * filter's timings until the new one has taken over.
 */
export async function waitForFilter(context, extensionId, url, timeoutMs = 60000, filterId = null) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const st = (await extensionStatus(context, extensionId, url))?.pipelines?.at(-1);
    const running = st && (st.state === 'off' || (st.state === 'ok' && st.filterMs !== null));
    if (running && (filterId === null || st.filter?.id === filterId)) return st;
    if (st?.state === 'failed' && !/did not answer within/.test(st.lastError ?? '')) throw new Error(`the filter failed: ${st.lastError}`);
    if (Date.now() > end) throw new Error(`the filter did not start within ${timeoutMs / 1000} s: ${JSON.stringify(st)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** The extension's engine frame inside `page` (present once a neural filter was used). */
export function engineFrame(page) {
  return page.frames().find((f) => /^chrome-extension:\/\/[^/]+\/engine\.html/.test(f.url())) ?? null;
}

/**
 * Live tensors in the engine worker and the engine frame's JS heap (bytes), through the
 * engine page's own test hook (a message it posts to itself).
 */
export async function engineMemory(page) {
  const f = engineFrame(page);
  if (!f) return { tensors: null, heap: null };
  await f.evaluate(() => {
    delete document.documentElement.dataset.numTensors;
    window.postMessage({ t: 'brushcam:memory' }, '*');
  });
  const tensors = await f.waitForFunction(() => document.documentElement.dataset.numTensors, null, { polling: 100, timeout: 20000 })
    .then((h) => h.jsonValue()).then(Number).catch(() => null);
  const heap = await f.evaluate(() => performance.memory?.usedJSHeapSize ?? null);
  return { tensors, heap };
}

/**
 * Where the page's engine runs ('offscreen': Chromium's multi-threaded engine; 'frame': the
 * engine frame's own worker) and how many threads its WASM backend runs, through the same hook.
 */
export async function engineThreads(page) {
  const f = engineFrame(page);
  if (!f) return null;
  await f.waitForFunction(() => document.documentElement.dataset.engine, null, { polling: 100, timeout: 20000 });
  await f.evaluate(() => {
    delete document.documentElement.dataset.wasmThreads;
    window.postMessage({ t: 'brushcam:memory' }, '*');
  });
  await f.waitForFunction(() => document.documentElement.dataset.wasmThreads, null, { polling: 100, timeout: 20000 });
  return f.evaluate(() => {
    const d = document.documentElement.dataset;
    return { where: d.engine, threads: Number(d.wasmThreads), isolated: d.isolated === 'true', threadMs: JSON.parse(d.threadMs ?? 'null') };
  });
}

/** Makes the engine's GPU go away (WEBGL_lose_context / GPUDevice.destroy()); returns the backend that lost it. */
export async function loseEngineGpu(page) {
  const f = engineFrame(page);
  if (!f) return null;
  await f.evaluate(() => window.postMessage({ t: 'brushcam:lose-gpu' }, '*'));
  return f.waitForFunction(() => document.documentElement.dataset.lostGpu, null, { polling: 200, timeout: 20000 }).then((h) => h.jsonValue()).catch(() => null);
}
