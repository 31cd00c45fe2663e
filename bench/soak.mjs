// The soak: a long call compressed into SOAK_MINUTES (default 20) of frames through the built
// extension. The fake camera plays a clip from ../shared/data with the raw-only checker marker
// in its corner; the filter changes every 10 s (every trained style and the avatar, in turn),
// the tab is hidden and shown, the camera is switched half-way, and the engine's GPU is lost
// once. Every output frame is checked for the marker.
//
//   npm run soak                      (writes bench/results/soak-<date>.{csv,svg,json})
//   SOAK_MINUTES=2 npm run soak       (a short run)
//
// The camera carries two raw-only markers: one in the corner and one between the eyes. What each
// mode may show: a painting style and the full avatar show neither (nothing of the camera); face
// swap sends the camera's picture around the face by design, so the corner marker may show, the
// face marker never. Frames between a switch and the new filter's first output may follow either
// filter's rule (the old filter paints until the new one is ready); the face marker is never allowed.
//
// Passes (exit 0) when no output frame showed a marker its mode forbids, frames kept flowing in every
// 10-s window, the engine's live tensors for each filter are the same every time it comes
// round, and the page's JS heap in the last quarter is not above the first quarter's by more
// than 25 %.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { lineChart } from './chart.mjs';
import { engineMemory, extensionStatus, launch, loseEngineGpu, setHidden, setSettings } from '../test/support/browser.mjs';
import { FACE_MARKER, markedClipCamera, MARKER, root } from '../test/support/fixtures.mjs';
import { serve } from '../test/support/server.mjs';

const MINUTES = Number(process.env.SOAK_MINUTES ?? 20);
const STEP_S = 10;
const steps = Math.max(6, Math.round((MINUTES * 60) / STEP_S));
const shipped = JSON.parse(readFileSync(join(root, 'models/manifest.json'), 'utf8')).models.filter((m) => m.folder);
const styles = shipped.filter((m) => m.kind === 'style').map((m) => m.id);
const avatars = shipped.filter((m) => m.kind === 'avatar').map((m) => m.id);
// Posterize keeps the marker's checker (it only quantises), so the cycle is the neural filters:
// every style, and every avatar in both presentations (the full avatar over each backdrop in turn).
const backdrops = ['blur', 'colour', 'scene'];
const modes = [
  ...styles.map((id) => ({ mode: 'style', style: id })),
  ...avatars.flatMap((id, k) => [
    { mode: 'anime', avatar: id, presentation: 'face-swap' },
    { mode: 'anime', avatar: id, presentation: 'full-avatar', backdrop: backdrops[k % backdrops.length] },
  ]),
];
const only = process.env.SOAK_MODES ? new RegExp(process.env.SOAK_MODES) : null;   // e.g. SOAK_MODES=lorelei
const labelOf = (m) => (m.mode === 'style' ? m.style : `${m.avatar}:${m.presentation}${m.backdrop ? `:${m.backdrop}` : ''}`);
if (only) modes.splice(0, modes.length, ...modes.filter((m) => only.test(labelOf(m))));
if (!modes.length) throw new Error(`SOAK_MODES=${process.env.SOAK_MODES} matches no mode`);
/** Which markers a mode may show: [corner, face]. */
const allowed = (m) => [m.mode === 'anime' && m.presentation === 'face-swap', false];
const specMatches = (f, m) => f && (m.mode === 'style' ? f.kind === 'style' && f.id === m.style
  : f.kind === 'anime' && f.id === m.avatar && f.presentation === m.presentation && (f.backdrop?.kind ?? undefined) === m.backdrop);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const camera = markedClipCamera(join(root, '../shared/data/video/people/d0.mp4'), { seconds: 20, faceMarker: true });
const MARKERS = [MARKER, FACE_MARKER];
const server = await serve();
const browser = await launch({ camera });
const { context, extensionId } = browser;
const page = await context.newPage();
page.on('pageerror', (e) => console.error('page error:', e.message));
await page.goto(`${server.url}/index.html`);
await page.waitForFunction(() => window.gumTest);
await setSettings(context, extensionId, { ...modes[0], backend: 'auto' });
const cdp = await context.newCDPSession(page);
let track = await page.evaluate(() => gumTest.open());
await page.evaluate(([i, m]) => gumTest.watch(i, m), [track, MARKERS]);

const rows = [];
const events = [];
let watchedBefore = { frames: 0, rawBy: [0, 0] };
const add = (a, b) => ({ frames: a.frames + b.frames, rawBy: a.rawBy.map((v, k) => v + b.rawBy[k]) });
const seenNow = async () => add(watchedBefore, await page.evaluate((i) => gumTest.watched(i), track));
/** Forbidden marker sightings: [corner, face], and how many frames showed an allowed one. */
const forbidden = { corner: 0, face: 0 };
let allowedCorner = 0;
const tally = (from, to, allow) => {
  const d = to.rawBy.map((v, k) => v - from.rawBy[k]);
  if (allow[0]) allowedCorner += d[0];
  else forbidden.corner += d[0];
  forbidden.face += d[1];
  return d;
};
/** Waits (at most `ms`) until the page's newest pipeline runs the filter of mode m. */
const waitActive = async (m, ms) => {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const st = (await extensionStatus(context, extensionId, page.url()))?.pipelines?.at(-1);
    if (st?.state === 'ok' && specMatches(st.filter, m)) return true;
    await sleep(250);
  }
  return false;
};
/**
 * The modes asked for since the last one seen painting (that one first): until the newest is
 * seen painting, the frames may come from any of them (on a loaded machine a filter can take
 * longer than a window to load, and the one before keeps painting meanwhile).
 */
let pending = [];
const anyOf = (ms) => [0, 1].map((k) => ms.some((x) => allowed(x)[k]));
/** The first frames that showed each marker (PNG, base64), written out when a marker was forbidden. */
const snaps = [];
const t0 = Date.now();
let hidden = false;
const switchAt = Math.floor(steps / 2);
const gpuAt = Math.floor(steps * 0.6);

for (let k = 0; k < steps; k++) {
  const m = modes[k % modes.length];
  const label = labelOf(m);
  const windowStart = Date.now();
  const atSwitch = await seenNow();
  let event = '';
  if (k === gpuAt) {
    // Run this window on WebGL (SwiftShader here) and lose it half-way: the engine must move on.
    await setSettings(context, extensionId, { ...m, backend: 'webgl' });
    event = 'gpu-loss';
  } else {
    await setSettings(context, extensionId, { ...m, backend: 'auto' });
  }
  if (k > 0 && k % 6 === 0) {
    hidden = !hidden;
    await setHidden(context, page, hidden);
    event ||= hidden ? 'hidden' : 'shown';
  }
  if (k === switchAt) {
    // Device switch: the page asks for the other camera, then stops the first.
    const ids = await page.evaluate(async () => (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === 'videoinput').map((d) => d.deviceId));
    const cur = await page.evaluate((i) => gumTest.info(i)[0].settings.deviceId, track);
    const other = ids.find((d) => d !== cur) ?? cur;
    snaps.push(...await page.evaluate((i) => gumTest.snapshots(i), track));
    const w = await page.evaluate((i) => gumTest.watched(i, true), track);
    watchedBefore = add(watchedBefore, w);
    const next = await page.evaluate((id) => gumTest.open({ video: { deviceId: { exact: id }, width: 640, height: 360 } }), other);
    await page.evaluate(([i, mk]) => gumTest.watch(i, mk), [next, MARKERS]);
    await page.evaluate((i) => gumTest.stop(i), track);
    track = next;
    event = 'device-switch';
  }
  // The switch: until the new filter paints, frames may follow its rule or that of any filter
  // asked for since the last one seen painting.
  pending.push(m);
  const active = await waitActive(m, STEP_S * 1000 - 1000);
  const activeAfterMs = Date.now() - windowStart;
  const atActive = await seenNow();
  const transition = tally(atSwitch, atActive, anyOf(pending));
  if (active) pending = [m];
  const rest = Math.max(0, STEP_S * 1000 - (Date.now() - windowStart));
  if (k === gpuAt) {
    await sleep(rest / 2);
    const lost = await loseEngineGpu(page);
    events.push({ step: k, what: `GPU lost: ${lost}` });
    await sleep(rest / 2);
  } else {
    await sleep(rest);
  }
  const st = (await extensionStatus(context, extensionId, page.url()))?.pipelines?.at(-1) ?? {};
  const seen = await seenNow();
  const inWindow = tally(atActive, seen, anyOf(pending));
  // After a full collection, so the heap figure is what is live, not what is waiting for GC.
  await cdp.send('HeapProfiler.collectGarbage').catch(() => {});
  const pageHeap = await page.evaluate(() => performance.memory?.usedJSHeapSize ?? null);
  const eng = await engineMemory(page);
  const row = {
    t_s: Math.round((Date.now() - t0) / 1000), step: k, filter: label, event, state: st.state, backend: st.backend,
    frames_in: st.framesIn, frames_out: st.framesOut, dropped: st.dropped, fallback: st.fallbackFrames,
    fps_in: +(st.fpsIn ?? 0).toFixed(1), fps_out: +(st.fpsOut ?? 0).toFixed(1), filter_ms: st.filterMs == null ? '' : +st.filterMs.toFixed(1),
    watched_frames: seen.frames, active_after_ms: active ? activeAfterMs : '',
    corner_marker_frames: transition[0] + inWindow[0], face_marker_frames: transition[1] + inWindow[1],
    forbidden_total: forbidden.corner + forbidden.face, page_heap_mb: pageHeap == null ? '' : +(pageHeap / 2 ** 20).toFixed(1),
    engine_heap_mb: eng.heap == null ? '' : +(eng.heap / 2 ** 20).toFixed(1), engine_tensors: eng.tensors ?? '',
    last_error: (st.lastError ?? '').replace(/[\n,]/g, ' '),
  };
  rows.push(row);
  console.log(`${String(row.t_s).padStart(5)} s  ${label.padEnd(28)} ${String(row.state).padEnd(7)} ${String(row.backend).padEnd(24)} out ${row.fps_out} fps  watched ${seen.frames} markers ${row.corner_marker_frames}/${row.face_marker_frames} forbidden ${row.forbidden_total}  heap ${row.page_heap_mb} MB  tensors ${row.engine_tensors} ${event}`);
}
snaps.push(...await page.evaluate((i) => gumTest.snapshots(i), track));
const final = await page.evaluate((i) => gumTest.watched(i, true), track);

// ---- verdict ----------------------------------------------------------------------------
const failures = [];
if (forbidden.corner > 0) failures.push(`${forbidden.corner} output frames of a style or a full avatar showed the camera's corner marker`);
if (forbidden.face > 0) failures.push(`${forbidden.face} output frames showed the camera's face marker`);
for (let k = 1; k < rows.length; k++) {
  if (rows[k].watched_frames <= rows[k - 1].watched_frames) failures.push(`no output frame between ${rows[k - 1].t_s} s and ${rows[k].t_s} s`);
}
// Engine tensors per filter, sampled after each filter's window: the same every time the filter
// comes round, before the GPU loss and after it (the loss window itself excluded). A paint that
// was running on the dead GPU may strand its one intermediate tensor: at most 2 across the loss.
const byFilter = new Map();
for (const r of rows) {
  // only windows whose filter was seen painting (one still loading holds a second model's tensors)
  if (r.event === 'gpu-loss' || r.engine_tensors === '' || r.active_after_ms === '' || r.state !== 'ok') continue;
  if (!byFilter.has(r.filter)) byFilter.set(r.filter, { before: [], after: [] });
  byFilter.get(r.filter)[r.step < gpuAt ? 'before' : 'after'].push(r.engine_tensors);
}
const tensorSpread = {};
const spread = (ts) => (ts.length > 1 ? Math.max(...ts.slice(1)) - Math.min(...ts.slice(1)) : 0);
for (const [f, { before, after }] of byFilter) {
  tensorSpread[f] = { before: [Math.min(...before), Math.max(...before)], after: after.length ? [Math.min(...after), Math.max(...after)] : null };
  if (spread(before) > 0) failures.push(`engine tensors for ${f} vary across its windows before the GPU loss: ${before.join(', ')}`);
  if (spread(after) > 0) failures.push(`engine tensors for ${f} vary across its windows after the GPU loss: ${after.join(', ')}`);
  if (before.length && after.length && Math.max(...after) - Math.max(...before) > 2) failures.push(`engine tensors for ${f} grew across the GPU loss: ${Math.max(...before)} → ${Math.max(...after)}`);
}
const heaps = rows.map((r) => r.page_heap_mb).filter((h) => h !== '');
const q = Math.max(1, Math.floor(heaps.length / 4));
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const heapFirst = median(heaps.slice(0, q));
const heapLast = median(heaps.slice(-q));
if (heapLast > heapFirst * 1.25) failures.push(`page heap grew from ${heapFirst} MB to ${heapLast} MB`);

const date = new Date().toISOString().slice(0, 10);
const outDir = join(root, 'bench/results');
mkdirSync(outDir, { recursive: true });
const base = join(outDir, `soak-${date}-${hostname().split('.')[0]}`);
const cols = Object.keys(rows[0]);
writeFileSync(`${base}.csv`, [cols.join(','), ...rows.map((r) => cols.map((c) => r[c]).join(','))].join('\n') + '\n');
const summary = {
  minutes: MINUTES, steps, modes: modes.map(labelOf), watchedFrames: watchedBefore.frames + final.frames,
  forbiddenCornerFrames: forbidden.corner, faceMarkerFrames: forbidden.face, allowedCornerFrames: allowedCorner,
  cameraFrames: rows.at(-1)?.frames_in, heapFirstMb: heapFirst, heapLastMb: heapLast, tensorSpread, events, failures,
  passed: failures.length === 0,
};
writeFileSync(`${base}.json`, JSON.stringify(summary, null, 2) + '\n');
if (forbidden.corner + forbidden.face > 0) {
  for (const sn of snaps) writeFileSync(`${base}-marker${sn.marker}-frame${sn.frame}.png`, Buffer.from(sn.png, 'base64'));
  console.log(`first frames that showed a marker: ${base}-marker<k>-frame<n>.png (${snaps.length})`);
}

// ---- chart ------------------------------------------------------------------------------
writeFileSync(`${base}.svg`, lineChart({
  title: 'Brushcam soak: every series scaled to its own maximum (legend)',
  points: rows,
  x: 't_s',
  series: [
    { key: 'fps_out', name: 'output fps', color: '#1f77b4', max: 35 },
    { key: 'page_heap_mb', name: 'page heap MB', color: '#2ca02c', max: Math.max(1, ...rows.map((r) => +r.page_heap_mb || 0)) * 1.2 },
    { key: 'engine_tensors', name: 'engine tensors', color: '#ff7f0e', max: Math.max(1, ...rows.map((r) => +r.engine_tensors || 0)) * 1.2 },
    { key: 'forbidden_total', name: 'forbidden marker frames (cumulative)', color: '#d62728', max: Math.max(10, ...rows.map((r) => r.forbidden_total)) },
  ],
  events: rows.filter((r) => r.event).map((r) => ({ at: r.t_s, label: r.event })),
}));

await browser.close();
await server.close();
console.log(JSON.stringify(summary, null, 2));
console.log(`wrote ${base}.csv, .json and .svg`);
process.exit(summary.passed ? 0 : 1);
