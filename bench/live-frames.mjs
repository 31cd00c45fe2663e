// Every output frame of a call, paired with the camera frame it was made from.
//
// The fake camera plays a y4m clip (test/support/fixtures.mjs clipCamera); the pipeline keeps
// the camera's timestamps. Those are capture times, not frame numbers (on a busy machine they
// jitter by tens of ms and the camera skips clip frames), so the pairing is by content: a second
// page on another site, where Brushcam is switched off, reads the same camera at the same time;
// each of its raw frames is matched to the clip (luma on a 4-px grid, frames in order), and an
// output frame's input is the raw frame with the same timestamp.
//
// Page side: captureInPage() reads a track with the page's own MediaStreamTrackProcessor and
// keeps every frame (RGBA, or for the raw page only its luma grid) in memory until the window
// ends, so nothing is encoded while the filter runs; fetchFrames() brings them over in batches.
import { closeSync, openSync, readSync, statSync, writeFileSync } from 'node:fs';
import { PNG } from 'pngjs';

/** Reads a 4:2:0 y4m file's header and gives each frame's luma plane on demand. */
export function openY4m(path) {
  const fd = openSync(path, 'r');
  const head = Buffer.alloc(512);
  readSync(fd, head, 0, 512, 0);
  const nl = head.indexOf(0x0a);
  const header = head.subarray(0, nl).toString('latin1');
  const w = Number(/ W(\d+)/.exec(header)?.[1]);
  const h = Number(/ H(\d+)/.exec(header)?.[1]);
  const fr = / F(\d+):(\d+)/.exec(header);
  if (!/^YUV4MPEG2/.test(header) || !w || !h || !fr) throw new Error(`${path}: expected a YUV4MPEG2 header with W, H and F, got '${header}'`);
  if (/ C(?!420)/.test(header)) throw new Error(`${path}: expected 4:2:0 chroma, got '${header}'`);
  // Frames are "FRAME<params>\n" + Y + U + V; ffmpeg writes a bare "FRAME\n".
  const frameHead = 6;
  const frameBytes = frameHead + w * h * 1.5;
  const count = Math.floor((statSync(path).size - (nl + 1)) / frameBytes);
  const fps = Number(fr[1]) / Number(fr[2]);
  return {
    w, h, fps, count,
    luma(k) {
      const b = Buffer.alloc(w * h);
      readSync(fd, b, 0, w * h, nl + 1 + k * frameBytes + frameHead);
      return b;
    },
    close: () => closeSync(fd),
  };
}

/**
 * Page function (runs in the page): reads `n` frames of a track (or until `maxMs`, or until
 * window.__liveStop is set), keeping each frame's timestamp and pixels in window.__liveFrames:
 * RGBA, or with `luma` only the luma (BT.601, video range) of every 4th pixel of every 4th row.
 * `source`: 'demo' (the demo call's local track) or a gumTest stream index.
 */
export async function captureInPage({ source, n, maxMs, luma = false }) {
  const track = source === 'demo' ? window.demoCall.localTrack : window.gumTest.track(source);
  // A deep queue: frames the page is slow to take are kept, not dropped.
  const reader = new MediaStreamTrackProcessor({ track: track.clone(), maxBufferSize: 30 }).readable.getReader();
  const frames = [];
  window.__liveFrames = frames;
  window.__liveStop = false;
  const c = new OffscreenCanvas(2, 2);
  const ctx = c.getContext('2d', { willReadFrequently: true });
  const end = performance.now() + maxMs;
  let rgba = null;
  try {
    while (frames.length < n && performance.now() < end && !window.__liveStop) {
      const { value: f, done } = await reader.read();
      if (done) break;
      try {
        const w = f.displayWidth;
        const h = f.displayHeight;
        if (rgba?.length !== w * h * 4) rgba = new Uint8Array(w * h * 4);
        let data = luma ? rgba : new Uint8Array(w * h * 4);
        try {
          // A copy in the frame's own memory: no drawing, no encoding while the filter runs.
          await f.copyTo(data, { format: 'RGBA', colorSpace: 'srgb' });
        } catch {
          if (c.width !== w || c.height !== h) {
            c.width = w;
            c.height = h;
          }
          ctx.drawImage(f, 0, 0);
          data.set(ctx.getImageData(0, 0, w, h).data);
        }
        if (luma) {
          const gw = Math.ceil((w - 2) / 4);
          const gh = Math.ceil((h - 2) / 4);
          const g = new Uint8Array(gw * gh);
          for (let y = 2, q = 0; y < h; y += 4) {
            for (let x = 2; x < w; x += 4, q++) {
              const p = (y * w + x) * 4;
              g[q] = Math.round(0.257 * data[p] + 0.504 * data[p + 1] + 0.098 * data[p + 2] + 16);
            }
          }
          data = g;
        }
        frames.push({ ts: f.timestamp, w, h, data, at: performance.now() });
      } finally {
        f.close();
      }
    }
  } finally {
    reader.cancel().catch(() => {});
  }
  return frames.length;
}

/** Brings window.__liveFrames over (base64 in batches) and frees them in the page. */
export async function fetchFrames(page) {
  const n = await page.evaluate(() => window.__liveFrames?.length ?? 0);
  const out = [];
  for (let i = 0; i < n; i += 8) {
    const batch = await page.evaluate(([i]) => window.__liveFrames.slice(i, i + 8).map((f) => {
      let s = '';
      for (let k = 0; k < f.data.length; k += 0x8000) s += String.fromCharCode(...f.data.subarray(k, k + 0x8000));
      return { ts: f.ts, w: f.w, h: f.h, at: f.at, b64: btoa(s) };
    }), [i]);
    out.push(...batch.map((f) => ({ ts: f.ts, w: f.w, h: f.h, at: f.at, data: new Uint8Array(Buffer.from(f.b64, 'base64')) })));
  }
  await page.evaluate(() => {
    window.__liveFrames = null;
  });
  return out;
}

/** The clip's luma on the same 4-px grid as captureInPage's `luma`. */
function clipGrid(clip, k) {
  const { w, h } = clip;
  const l = clip.luma(k);
  const gw = Math.ceil((w - 2) / 4);
  const g = new Uint8Array(gw * Math.ceil((h - 2) / 4));
  for (let y = 2, q = 0; y < h; y += 4) for (let x = 2; x < w; x += 4, q++) g[q] = l[y * w + x];
  return g;
}

function meanAbs(a, b) {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s / a.length;
}

/**
 * Raw camera frames (luma grids, in arrival order) → the clip frame each one is: the first by a
 * search of the whole clip, the rest in order (the camera only moves forward, wrapping at the
 * end). Returns Map(timestamp → { index, d, margin }) where d is the mean |Δ luma| of the match
 * (a frame read back from the camera is within 1-2 of the clip) and margin how much worse the
 * next best candidate was. Throws when the first frame matches nothing (wrong clip or size).
 */
export function identify(rawFrames, clip) {
  const grids = new Map();
  const grid = (k) => {
    k = ((k % clip.count) + clip.count) % clip.count;
    if (!grids.has(k)) grids.set(k, clipGrid(clip, k));
    return grids.get(k);
  };
  const out = new Map();
  let prev = null;
  for (const f of rawFrames) {
    if (f.w !== clip.w || f.h !== clip.h) throw new Error(`camera frame is ${f.w}x${f.h}, the clip ${clip.w}x${clip.h}`);
    const cands = prev === null ? Array.from({ length: clip.count }, (_, k) => k) : Array.from({ length: 12 }, (_, j) => prev + j);
    const scored = cands.map((k) => ({ k: ((k % clip.count) + clip.count) % clip.count, d: meanAbs(f.data, grid(k)) })).sort((a, b) => a.d - b.d);
    if (prev === null && scored[0].d > 6) throw new Error(`the camera's frames do not match the clip (best mean |Δ luma| ${scored[0].d.toFixed(1)})`);
    out.set(f.ts, { index: scored[0].k, d: scored[0].d, margin: (scored[1]?.d ?? Infinity) - scored[0].d });
    prev = scored[0].k;
  }
  return out;
}

/**
 * Writes output frames as frame-<camera frame index>.png plus frames.json (index, timestamp,
 * arrival order); `indexOf` is identify()'s map. Output frames whose timestamp the raw page did
 * not see are counted, not written.
 */
export function writeIndexed(dir, frames, indexOf, extra = {}) {
  const list = [];
  const seen = new Set();
  let unpaired = 0;
  frames.forEach((f, order) => {
    const id = indexOf.get(f.ts);
    if (!id) {
      unpaired++;
      return;
    }
    const index = id.index;
    // Two outputs of one camera frame cannot happen (the pump outputs each input once); a
    // wrapped clip can: later ones get a suffix.
    let name = `frame-${String(index).padStart(5, '0')}`;
    while (seen.has(name)) name += 'b';
    seen.add(name);
    const png = new PNG({ width: f.w, height: f.h });
    png.data = Buffer.from(f.data.buffer, f.data.byteOffset, f.data.byteLength);
    writeFileSync(`${dir}/${name}.png`, PNG.sync.write(png));
    list.push({ file: `${name}.png`, index, ts: f.ts, order, arrivalMs: f.at, matchD: +id.d.toFixed(2) });
  });
  writeFileSync(`${dir}/frames.json`, JSON.stringify({ ...extra, outputFrames: frames.length, unpaired, frames: list }, null, 1) + '\n');
  return { list, unpaired };
}
