#!/usr/bin/env node
// One benchmark for the whole product: the built extension (dist/chrome) in headless Chromium,
// a clip from ../shared/data/video/ as the camera, every mode × backend × output size; then
// Firefox ESR rows (passthrough, posterize, a neural style, the avatar) in the same run
// (--no-firefox skips them, --firefox-only runs only them).
//
//   npm run bench                                   (wasm; 640×360 and 1280×720)
//   npm run bench -- --backends wasm,webgl,webgpu --frames 1000 --max-seconds 90
//   npm run bench -- --modes off,posterize,starry_night --sizes 640x360 --tag quick   (-> ...-bench-quick.json)
//   npm run bench -- --engine frame ...   (Chromium without its offscreen engine: the single-threaded
//                                          engine in the page's extension frame, as in Firefox)
//
// Per row: filter ms per frame (median, p95, engine side), output fps against camera fps,
// frames dropped, the page's main-thread long tasks per minute, the page's JS heap and the
// engine's live tensors after 100 and after the last output frame (leak check), the internal
// resolution the governor settled on (for the avatar: detector and translator strides), and the
// analytic GFLOP per frame at that resolution (the avatar: one translation per translator stride).
// Baselines in the same run: passthrough ('off'), a naive pipeline (every frame read back to
// the CPU on the main thread: the strict-CSP page with posterize on Canvas 2D), and the
// full-size reference ReCoNet (bench/style-page.js, a few frames). Writes
// bench/results/<date>-<host>-bench.json and an SVG chart beside it (bench/chart.mjs).
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, hostname, loadavg } from 'node:os';
import { join } from 'node:path';
import { captureInPage, fetchFrames, identify, openY4m, writeIndexed } from './live-frames.mjs';
import { barChart } from './chart.mjs';
import { engineMemory, engineThreads, extensionStatus, launch, setSettings } from '../test/support/browser.mjs';
import { extensionStatus as ffStatus, launchFirefox, setSettings as setFirefoxSettings, waitForPipeline } from '../test/support/firefox.mjs';
import { clipCamera, root } from '../test/support/fixtures.mjs';
import { serve } from '../test/support/server.mjs';

const arg = (k, d) => (process.argv.includes(`--${k}`) ? process.argv[process.argv.indexOf(`--${k}`) + 1] : d);
const backends = arg('backends', 'wasm').split(',');
const sizes = arg('sizes', '640x360,1280x720').split(',').map((s) => s.split('x').map(Number));
const FRAMES = Number(arg('frames', 1000));
const MAX_S = Number(arg('max-seconds', 60));
const SETTLE_S = Number(arg('settle-seconds', 6));
const manifest = JSON.parse(readFileSync(join(root, 'models/manifest.json'), 'utf8'));
const styleModels = manifest.models.filter((m) => m.kind === 'style' && m.folder);
const avatars = manifest.models.filter((m) => m.kind === 'avatar' && m.folder);
const allModes = [
  { id: 'off', settings: { mode: 'off' }, neural: false },
  { id: 'posterize', settings: { mode: 'style', style: 'posterize' }, neural: false },
  ...styleModels.map((m) => ({ id: m.id, settings: { mode: 'style', style: m.id }, neural: true, gflop640: m.gflopsAt640x360, tiers: m.tiers ?? [] })),
  ...(avatars.length
    ? ['face-swap', 'full-avatar'].map((p) => ({ id: `anime:${p}`, settings: { mode: 'anime', avatar: avatars[0].id, presentation: p }, neural: true, gflop640: null, gflopPerTranslation: avatars[0].gflopsAt640x360, tiers: avatars[0].tiers ?? [] }))
    : []),
  // The puppet: face mesh + iris tracking and a drawn character (no translator network).
  ...['mika', 'kit'].map((c) => ({ id: `puppet:${c}`, settings: { mode: 'anime', presentation: 'puppet', puppetCharacter: c, backdrop: 'scene' }, neural: true, gflop640: null })),
];
// The naive baseline: every frame read back to the CPU and processed in JS (posterize on
// Canvas 2D), run on the strict page, i.e. on the page's main thread.
const NAIVE = { id: 'naive-readback', settings: { mode: 'style', style: 'posterize', backend: 'wasm' }, neural: false };
const only = arg('modes', null)?.split(',');
const modes = only ? allModes.filter((m) => only.includes(m.id)) : allModes;
const clip = join(root, `../shared/data/video/people/${arg('clip', 'd0')}.mp4`);
// Live fidelity (style rows): every output frame for this many seconds, paired with its camera
// frame through a raw page on another site (Brushcam off there), scored by
// training/brushcam_train/fidelity.py against the same network at full size. 0: off.
const FIDELITY_S = Number(arg('fidelity-seconds', 4));
const liveDir = join(root, 'bench/results/live', new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19));
const fidelityJobs = [];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const server = await serve();
const rows = [];
const notes = [];
if (!avatars.length) notes.push('anime rows skipped: models/manifest.json ships no trained avatar model');

async function gpuInfo(page) {
  return page.evaluate(async () => {
    const a = await navigator.gpu?.requestAdapter?.().catch(() => null);
    const info = a?.info ?? {};
    return a ? `${info.vendor ?? ''} ${info.architecture ?? ''} ${info.description ?? ''}`.trim() || 'unnamed adapter' : null;
  });
}

async function pipelineOf(browser, page) {
  return (await extensionStatus(browser.context, browser.extensionId, page.url()))?.pipelines?.at(-1) ?? null;
}

async function waitForMode(browser, page, mode, backend, timeoutMs = 120000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const st = await pipelineOf(browser, page);
    const want = mode.settings.mode === 'off' ? st?.state === 'off'
      : st?.state === 'ok' && st.filterMs !== null && (mode.neural ? new RegExp(`^tfjs-${backend}`).test(st.backend ?? '')
        : st.filter?.id === mode.settings.style && (mode === NAIVE ? st.backend === 'canvas2d' : /^(webgl2|canvas2d)/.test(st.backend ?? '')));
    if (want) return st;
    if (st?.state === 'failed') throw new Error(st.lastError ?? 'failed');
    if (Date.now() > end) throw new Error(`not ready within ${timeoutMs / 1000} s: ${JSON.stringify(st)}`);
    await sleep(500);
  }
}

// --engine frame: dist/chrome without the offscreen permission and the isolation keys, so the
// engine frame keeps its own single-threaded worker (the fallback path), for before/after rows.
const engineArg = arg('engine', 'auto');
let extensionDir = join(root, 'dist/chrome');
if (engineArg === 'frame') {
  extensionDir = join(root, 'build/chrome-frame-engine');
  rmSync(extensionDir, { recursive: true, force: true });
  cpSync(join(root, 'dist/chrome'), extensionDir, { recursive: true });
  const m = JSON.parse(readFileSync(join(extensionDir, 'manifest.json'), 'utf8'));
  m.permissions = m.permissions.filter((p) => p !== 'offscreen');
  delete m.cross_origin_embedder_policy;
  delete m.cross_origin_opener_policy;
  writeFileSync(join(extensionDir, 'manifest.json'), JSON.stringify(m, null, 2));
} else if (engineArg !== 'auto') throw new Error(`--engine: expected 'auto' or 'frame', got '${engineArg}'`);

let gpuName = null;
const firefoxOnly = process.argv.includes('--firefox-only');
for (const [w, h] of firefoxOnly ? [] : sizes) {
  const camera = clipCamera(clip, { width: w, height: h, seconds: 20 });
  const browser = await launch({ camera, extension: extensionDir, args: ['--enable-unsafe-webgpu'] });
  const cdp = async (page) => browser.context.newCDPSession(page);
  for (const path of ['/index.html', '/strict/index.html']) {
    // The strict page (no blob: workers) is the main-thread arrangement: only the baselines run there.
    const rowModes = path === '/index.html' ? modes : [...modes.filter((m) => m.id === 'off' || m.id === 'posterize'), NAIVE];
    const page = await browser.context.newPage();
    page.on('pageerror', (e) => console.error('page error:', e.message));
    await page.goto(`${server.url}${path}`);
    await page.waitForFunction(() => window.gumTest);
    gpuName ??= await gpuInfo(page);
    // The same camera, raw: a page on another site, where Brushcam is switched off.
    let raw = null;
    if (path === '/index.html' && FIDELITY_S > 0 && rowModes.some((m) => m.settings.mode === 'style' && m.neural)) {
      await setSettings(browser.context, browser.extensionId, { disabledSites: ['localhost'] });
      const rp = await browser.context.newPage();
      await rp.goto(`${server.url.replace('127.0.0.1', 'localhost')}${path}`);
      await rp.waitForFunction(() => window.gumTest);
      raw = { page: rp, i: await rp.evaluate(([w, h]) => gumTest.open({ video: { width: w, height: h, frameRate: 30 } }), [w, h]) };
      // Read only while capturing: no <video> of it playing through the measurements.
      await rp.evaluate(() => (document.getElementById('v').srcObject = null));
      await page.bringToFront();
    }
    const session = await cdp(page);
    await session.send('Performance.enable').catch(() => {});
    // Busy time of the page's main thread (the renderer's TaskDuration, seconds), when CDP has it.
    const mainBusy = async () => (await session.send('Performance.getMetrics').catch(() => null))?.metrics?.find((m) => m.name === 'TaskDuration')?.value ?? null;
    await setSettings(browser.context, browser.extensionId, { mode: 'off', backend: 'auto' });
    const i = await page.evaluate(([w, h]) => gumTest.open({ video: { width: w, height: h, frameRate: 30 } }), [w, h]);
    for (const mode of rowModes) {
      for (const backend of mode.neural ? backends : ['-']) {
        const label = `${mode.id}${mode.neural ? ` ${backend}` : ''} ${w}x${h} ${path === '/index.html' ? '' : '(main thread)'}`.trim();
        try {
          await setSettings(browser.context, browser.extensionId, { backend: mode.neural ? backend : 'auto', ...mode.settings, ...(mode.neural ? { backend } : {}) });
          await waitForMode(browser, page, mode, backend);
          await sleep(SETTLE_S * 1000);
          const before = await pipelineOf(browser, page);
          const busy0 = await mainBusy();
          const a = await page.evaluate(([i, n, ms]) => gumTest.measure(i, n, ms), [i, Math.min(100, FRAMES), MAX_S * 1000]);
          await session.send('HeapProfiler.collectGarbage').catch(() => {});
          const heap100 = await page.evaluate(() => performance.memory?.usedJSHeapSize ?? null);
          const eng100 = mode.neural ? await engineMemory(page) : { tensors: null };
          const b = await page.evaluate(([i, n, ms]) => gumTest.measure(i, n, ms), [i, Math.max(0, FRAMES - 100), Math.max(1, MAX_S * 1000 - a.seconds * 1000)]);
          const busy1 = await mainBusy();
          const after = await pipelineOf(browser, page);
          await session.send('HeapProfiler.collectGarbage').catch(() => {});
          const heapEnd = await page.evaluate(() => performance.memory?.usedJSHeapSize ?? null);
          const engEnd = mode.neural ? await engineMemory(page) : { tensors: null };
          const seconds = a.seconds + b.seconds;
          const frames = a.frames + b.frames;
          // The camera's rate is its nominal frame rate: the pump's own reading rate drops when a
          // filter blocks its thread (the camera's queue then discards frames unseen).
          const nominalFps = await page.evaluate((i) => gumTest.info(i).find((t) => t.kind === 'video').settings.frameRate, i);
          // Statuses arrive about once a second: rate over their own timestamps, not the window's.
          const pumpReadFps = after.at && before.at && after.at > before.at
            ? ((after.framesIn - before.framesIn) * 1000) / (after.at - before.at) : (after.framesIn - before.framesIn) / seconds;
          const cameraFps = Math.max(nominalFps || 0, pumpReadFps);
          const side = Number(/@ (\d+)px/.exec(after.backend ?? '')?.[1] ?? 0) || null;
          // "tfjs-wasm @ 96px tiny": the governor moved the style to its cheaper tier.
          const tier = /@ \d+px ([a-z0-9_-]+)/.exec(after.backend ?? '')?.[1] ?? null;
          // "..., drawn at 1/2": the page draws guided frames at half size per side (its work outgrew its share)
          const drawScale = Number(/drawn at 1\/(\d+)/.exec(after.backend ?? '')?.[1] ?? 1);
          const gflop640 = tier ? mode.tiers?.find((t) => t.id === tier)?.gflopsAt640x360 ?? null : mode.gflop640;
          const internal = side ? (w >= h ? [side, Math.round((side * h) / w)] : [Math.round((side * w) / h), side]) : [w, h];
          // The avatar: one translation (a 128² crop, whatever the frame size) every tr-th frame.
          const trStride = Number(/-tr(\d+)/.exec(tier ?? '')?.[1] ?? 0) || null;
          const trSide = Number(/-s(\d+)/.exec(tier ?? '')?.[1] ?? 128);
          // "det1-tr1-tiny": the translator's cheaper tier translates
          const trTier = mode.tiers?.find((t) => new RegExp(`-tr\\d+-${t.id}\\b`).test(tier ?? ''));
          const perTranslation = trTier ? trTier.gflopsAt640x360 : mode.gflopPerTranslation;
          const gflop = perTranslation != null && trStride ? (perTranslation * (trSide / 128) ** 2) / trStride
            : gflop640 != null ? (gflop640 * internal[0] * internal[1]) / (640 * 360) : mode.neural ? null : 0;
          const row = {
            mode: mode.id, backend: mode.neural ? backend : after.backend ?? 'none', size: `${w}x${h}`, placement: after.placement,
            // what painted the last frame ("tfjs-wasm (2 threads) @ 320px tiny") and where the engine ran
            engine: after.backend ?? null, ...(mode.neural ? await engineThreads(page).then((t) => ({ engineWhere: t?.where ?? null, threadMs: t?.threadMs ?? null }), () => ({})) : {}),
            msMedian: after.filterMs, msP95: after.filterMsP95, engineMs: after.engineMs ?? null, outputFps: frames / seconds, cameraFps, pumpReadFps, fpsRatio: frames / seconds / cameraFps,
            framesOut: frames, seconds, dropped: after.dropped - before.dropped,
            longTasksPerMin: ((a.longTasks + b.longTasks) / seconds) * 60,
            // Includes the test page's own work (its <video> of the output): compare rows, not absolutes.
            mainThreadMsPerFrame: busy0 != null && busy1 != null && frames ? ((busy1 - busy0) * 1000) / frames : null,
            heapMbAt100: heap100 == null ? null : heap100 / 2 ** 20, heapMbAtEnd: heapEnd == null ? null : heapEnd / 2 ** 20,
            tensorsAt100: eng100.tensors, tensorsAtEnd: engEnd.tensors, internalSide: side, tier, drawScale, gflopPerFrame: gflop,
            levelChangesPerMin: after.levelChanges != null && before.levelChanges != null ? ((after.levelChanges - before.levelChanges) / seconds) * 60 : null,
          };
          if (raw && mode.neural && mode.settings.mode === 'style') {
            const dir = join(liveDir, `${mode.id}-${backend}-${w}x${h}`);
            mkdirSync(dir, { recursive: true });
            const rawRun = raw.page.evaluate(captureInPage, { source: raw.i, n: 100000, maxMs: (FIDELITY_S + 5) * 1000, luma: true });
            await page.evaluate(captureInPage, { source: i, n: 100000, maxMs: FIDELITY_S * 1000 });
            await raw.page.evaluate(() => (window.__liveStop = true));
            await rawRun;
            const y4m = openY4m(camera);
            const { list, unpaired } = writeIndexed(dir, await fetchFrames(page), identify(await fetchFrames(raw.page), y4m), {
              clip: camera, size: [w, h], mode: mode.id, backend: after.backend,
            });
            y4m.close();
            row.liveFrames = { dir, paired: list.length, unpaired };
            fidelityJobs.push({ row, dir, model: join(root, 'models', styleModels.find((m) => m.id === mode.id).folder) });
          }
          rows.push(row);
          console.log(`${label.padEnd(40)} ${String(row.msMedian?.toFixed(1) ?? '-').padStart(6)} / ${String(row.msP95?.toFixed(1) ?? '-').padStart(6)} ms${row.engineMs != null ? ` (engine ${row.engineMs.toFixed(1)})` : ''}  ` +
            `out ${row.outputFps.toFixed(1)} of ${row.cameraFps.toFixed(1)} fps (${row.fpsRatio.toFixed(2)})  dropped ${row.dropped}  long ${row.longTasksPerMin.toFixed(1)}/min  ` +
            `main ${row.mainThreadMsPerFrame?.toFixed(2) ?? '-'} ms/frame  ` +
            `heap ${row.heapMbAt100?.toFixed(2)}→${row.heapMbAtEnd?.toFixed(2)} MB  tensors ${row.tensorsAt100 ?? '-'}→${row.tensorsAtEnd ?? '-'}  ` +
            `${side ? `@${side}px${tier ? ` ${tier}` : ''} ` : ''}${gflop == null ? '' : `${gflop.toFixed(2)} GFLOP`}`);
        } catch (e) {
          notes.push(`${label}: ${e.message}`);
          console.log(`${label.padEnd(40)} skipped: ${e.message}`);
        }
      }
    }
    await page.close();
    await raw?.page.close();
  }
  await browser.close();
}

// ---- Firefox ESR rows ------------------------------------------------------------------------
// build/firefox-test (dist/firefox + the test hooks that set modes from the page) in headless
// Firefox with its fake camera (a flat colour that changes, 30 fps). Firefox has no track
// processor, so rates are counted where Firefox can: the frames the pipeline reads and writes
// (its status), and the frames a page's <video> of the output presents (requestVideoFrameCallback),
// against what a <video> presents of the camera itself in a Firefox without the extension, in
// the same run. Modes: off (passthrough), posterize, the first neural style, the avatar.
const firefoxRows = [];
if (!process.argv.includes('--no-firefox')) {
  const ffModes = [allModes[0], allModes[1], allModes.find((m) => m.neural && m.id !== 'posterize' && !m.id.startsWith('anime')), allModes.find((m) => m.id === 'anime:full-avatar')]
    .filter(Boolean).filter((m) => !only || only.includes(m.id));
  const measureSeconds = Number(arg('firefox-seconds', 10));
  for (const [w, h] of sizes) {
    // The camera alone, as a page sees it.
    const bare = await launchFirefox({ extension: null });
    let cameraFps = null;
    try {
      const p = await bare.browser.newPage();
      await p.goto(`${server.url}/index.html`);
      await p.waitForFunction(() => window.gumTest);
      const i = await p.evaluate((w, h) => gumTest.open({ video: { width: w, height: h, frameRate: 30 } }), w, h);
      await sleep(1500);
      cameraFps = await p.evaluate((i, ms) => gumTest.rvfc(i, ms), i, measureSeconds * 1000);
    } finally {
      await bare.close();
    }
    const ff = await launchFirefox();
    try {
      for (const mode of ffModes) {
        const label = `firefox ${mode.id} ${w}x${h}`;
        try {
          // A first page sets the mode (the test hook) and waits until it runs; the measured page is
          // a fresh one with its own camera (as a call site that opens after the setting is made).
          const setup = await ff.browser.newPage();
          await setup.goto(`${server.url}/index.html`);
          await setup.waitForFunction(() => window.gumTest);
          await setFirefoxSettings(setup, { mode: 'off', backend: 'auto', ...mode.settings, ...(mode.neural ? { backend: 'wasm' } : {}) });
          await setup.evaluate((w, h) => gumTest.open({ video: { width: w, height: h, frameRate: 30 } }), w, h);
          const ready = mode.settings.mode === 'off' ? (s) => s.state === 'off' : (s) => s.state === 'ok' && s.filterMs !== null;
          await waitForPipeline(setup, (s) => {
            if (s.state === 'failed' && s.lastError && !/did not answer within/.test(s.lastError)) throw new Error(s.lastError);
            return ready(s);
          }, label, 180000);
          await setup.close();
          const page = await ff.browser.newPage();
          try {
            await page.goto(`${server.url}/index.html`);
            await page.waitForFunction(() => window.gumTest);
            const i = await page.evaluate((w, h) => gumTest.open({ video: { width: w, height: h, frameRate: 30 } }), w, h);
            await sleep((SETTLE_S + (mode.neural ? 10 : 0)) * 1000);
            const presentedFps = await page.evaluate((i, ms) => gumTest.rvfc(i, ms), i, measureSeconds * 1000);
            const after = (await ffStatus(page)).pipelines.at(-1);
            if (!ready(after)) throw new Error(`not running when measured: ${JSON.stringify(after)}`);
            const row = {
              browser: 'firefox', mode: mode.id, backend: after.backend ?? 'none', size: `${w}x${h}`, placement: after.placement, frames: after.frames,
              msMedian: after.filterMs, msP95: after.filterMsP95, engineMs: after.engineMs ?? null,
              cameraFps, pumpFpsIn: after.fpsIn,
              presentedFps, fpsRatio: cameraFps ? presentedFps / cameraFps : null, dropped: after.dropped, state: after.state,
            };
            firefoxRows.push(row);
            console.log(`${label.padEnd(40)} ${String(row.msMedian?.toFixed(1) ?? '-').padStart(6)} / ${String(row.msP95?.toFixed(1) ?? '-').padStart(6)} ms  ` +
              `presented ${presentedFps.toFixed(1)} of camera ${cameraFps?.toFixed(1)} fps (${row.fpsRatio?.toFixed(2)})  ${row.backend}`);
          } finally {
            await page.close();
          }
        } catch (e) {
          notes.push(`${label}: ${e.message}`);
          console.log(`${label.padEnd(40)} skipped: ${e.message}`);
        }
      }
    } finally {
      await ff.close();
    }
  }
}
await server.close();

// ---- live fidelity: the frames the call received against the network at full size -------------
for (const job of fidelityJobs) {
  const out = join(job.dir, 'fidelity.json');
  try {
    execFileSync('/usr/bin/python3', ['-m', 'brushcam_train.fidelity', '--frames', job.dir, '--model', job.model, '--max-frames', String(arg('fidelity-frames', 24)), '--json', out],
      { cwd: join(root, 'training'), stdio: ['ignore', 'ignore', 'inherit'] });
    const f = JSON.parse(readFileSync(out, 'utf8'));
    job.row.fidelity = Object.fromEntries(Object.entries(f).filter(([k]) => !k.startsWith('_')).map(([k, v]) => [k, { ssim: v.ssim, feat: v.feat }]));
  } catch (e) {
    notes.push(`fidelity of ${job.row.mode} ${job.row.size}: ${e.message.split('\n')[0]}`);
  }
}

// The full-size reference ReCoNet and the shipped networks, model only (bench/style-page.js).
const refRows = [];
if (!firefoxOnly) {
  const s2 = await serve({ '/': root });
  const b = await launch({ extension: null, args: ['--enable-unsafe-webgpu'] });
  const page = await b.context.newPage();
  await page.goto(`${s2.url}/bench/pages/style.html`);
  await page.waitForFunction(() => window.styleBench, null, { timeout: 60000 });
  const one = styleModels.slice(0, 1).map((m) => ({ id: m.id, url: `/models/${m.folder}/` }));
  for (const backend of backends.filter((x) => x === 'wasm')) {
    refRows.push(...(await page.evaluate((o) => window.styleBench(o), { backend, sizes: [[640, 360]], styles: one, reps: 3, refReps: 1 })));
  }
  await b.close();
  await s2.close();
}

// ---- ratios against the baselines --------------------------------------------------------
const find = (mode, size, placement) => rows.find((r) => r.mode === mode && r.size === size && (!placement || r.placement === placement));
for (const r of rows) {
  const pass = find('off', r.size, 'worker');
  const naive = find('naive-readback', r.size, 'main-thread');
  r.vsPassthroughFps = pass ? r.outputFps / pass.outputFps : null;
  r.vsNaiveMs = naive?.msMedian && r.msMedian ? naive.msMedian / r.msMedian : null;
}
const ref = refRows.find((r) => r.model === 'reconet-reference');
const lite = refRows.find((r) => r.model !== 'reconet-reference');
const summary = {
  date: new Date().toISOString(), machine: { host: hostname(), cpus: cpus().length, model: cpus()[0]?.model, gpu: gpuName, loadAverageAtEnd: loadavg() },
  frames: FRAMES, maxSeconds: MAX_S, backends, rows, firefox: firefoxRows, reference: refRows,
  referenceSpeedup640: ref && lite ? ref.median / lite.median : null, notes,
};

if (rows.length) console.log('\nmode                  backend  size       placement    engine@thr    ms med/p95    engine  main/frame  out/cam fps  tier        vs passthrough  naive/this ms  changes/min  live ssim/feat  offline full@320  tiny@320');
const fid = (f) => (f ? `${f.ssim.toFixed(3)}/${f.feat.toFixed(3)}` : '-');
for (const r of rows) {
  const thr = /\((\d+) threads\)/.exec(r.engine ?? '')?.[1] ?? (r.engineWhere ? '1' : '');
  console.log(`${r.mode.padEnd(21)} ${String(r.backend).slice(0, 8).padEnd(8)} ${r.size.padEnd(10)} ${String(r.placement).padEnd(12)} ${`${r.engineWhere ?? '-'}${thr ? `@${thr}` : ''}`.padEnd(12)} ` +
    `${(r.msMedian?.toFixed(1) ?? '-').padStart(6)}/${(r.msP95?.toFixed(1) ?? '-').padEnd(6)} ${(r.engineMs?.toFixed(1) ?? '-').padStart(6)}  ` +
    `${(r.mainThreadMsPerFrame?.toFixed(2) ?? '-').padStart(9)}  ${r.fpsRatio.toFixed(2).padStart(10)}   ${(r.internalSide ? `${r.internalSide}px${r.tier ? ` ${r.tier}` : ''}` : '-').padEnd(10)}  ` +
    `${(r.vsPassthroughFps?.toFixed(2) ?? '-').padStart(13)}  ${(r.vsNaiveMs?.toFixed(2) ?? '-').padStart(13)}  ${(r.levelChangesPerMin?.toFixed(1) ?? '-').padStart(11)}  ` +
    `${fid(r.fidelity?.live).padStart(14)}  ${fid(r.fidelity?.['full@320']).padStart(16)}  ${fid(r.fidelity?.['tiny@320'])}`);
}
if (firefoxRows.length) {
  console.log('\nfirefox mode           size       backend                 ms med/p95    presented fps  camera fps  presented/camera');
  for (const r of firefoxRows) {
    console.log(`${r.mode.padEnd(21)} ${r.size.padEnd(10)} ${String(r.backend).slice(0, 22).padEnd(22)} ${(r.msMedian?.toFixed(1) ?? '-').padStart(6)}/${(r.msP95?.toFixed(1) ?? '-').padEnd(6)} ` +
      `${r.presentedFps.toFixed(1).padStart(13)} ${(r.cameraFps?.toFixed(1) ?? '-').padStart(11)}  ${r.fpsRatio?.toFixed(2) ?? '-'}`);
  }
}
if (ref && lite) console.log(`\nreference ReCoNet ${ref.median.toFixed(0)} ms vs ${lite.model} ${lite.median.toFixed(0)} ms per 640x360 frame (model only, wasm): ${summary.referenceSpeedup640.toFixed(1)}x`);
for (const n of notes) console.log(`note: ${n}`);

const dir = join(root, 'bench/results');
mkdirSync(dir, { recursive: true });
const tag = arg('tag', '');
const base = join(dir, `${summary.date.slice(0, 10)}-${hostname().split('.')[0]}-bench${tag ? `-${tag}` : ''}`);
writeFileSync(`${base}.json`, JSON.stringify(summary, null, 2) + '\n');

// ---- chart: output fps / camera fps and ms per frame, one bar pair per row -----------------
{
  const maxMs = Math.max(1, ...rows.map((r) => r.msMedian ?? 0));
  writeFileSync(`${base}.svg`, barChart({
    title: 'output fps / camera fps (blue, 0..1) and filter ms per frame (orange, 0..max)',
    rows: rows.map((r) => ({
      label: `${r.mode} ${r.backend} ${r.size} ${r.placement}`,
      bars: [{ value: r.fpsRatio, max: 1, color: '#1f77b4' }, { value: r.msMedian ?? 0, max: maxMs, color: '#ff7f0e' }],
      note: `${r.fpsRatio.toFixed(2)}  ${r.msMedian?.toFixed(1) ?? '-'} ms  ${r.internalSide ? `@${r.internalSide}px${r.tier ? ` ${r.tier}` : ''}` : ''}`,
    })),
  }));
}
console.log(`wrote ${base}.json and .svg`);
