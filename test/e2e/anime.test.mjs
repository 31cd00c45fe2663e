// End-to-end: the anime avatar on a real face clip (../shared/data/video/people/d3.mp4 as the fake
// camera). Without a trained avatar model the filter reports why and the page gets neutral frames;
// with the shipped model (models/anime/anime; the untrained parity fixture stands in where none
// ships) the page gets the frame with the face replaced (face swap) or the portrait over the
// blurred frame (full avatar: the margins are the clip blurred as the product blurs it, the centre
// is neither that nor the camera), and the avatar is stable: its face region changes, per edge
// contrast, at most twice as much as the camera's own face region over the same time; a second
// shipped avatar style replaces the portrait live. "Never the raw face": the centre of every output frame (where d3's face always is)
// differs from the centre of every frame of the clip, and fail-closed frames have no face BlazeFace
// can find (it finds one in the clip itself).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { extensionStatus, launch, setSettings } from '../support/browser.mjs';
import { clipCamera, root } from '../support/fixtures.mjs';
import { serve } from '../support/server.mjs';

const CLIP = join(root, '../shared/data/video/people/d3.mp4');
const CLIP_FPS = 30;
const cam = clipCamera(CLIP, { width: 640, height: 360, seconds: 10, fps: CLIP_FPS });
let server;
let variant;
let untrained;
let raw;
let rawBlurred;

/** The full avatar's backdrop blur (src/shared/face-swap.ts BLUR_FACTOR: a frame averaged down 32×). */
const BLUR_FACTOR = 32;
/** Small luma pictures (SW×SH) compared between the clip and the output. */
const SW = 160, SH = 90;
/** Where d3's face always is (eyes to mouth), and the frame's left/right margins, in SW×SH pixels. */
const CENTRE = { x0: 60, x1: 100, y0: 38, y1: 75 };
const MARGINS = [{ x0: 0, x1: 14, y0: 0, y1: SH }, { x0: SW - 14, x1: SW, y0: 0, y1: SH }];
const luma = (r, g, b) => 0.299 * r + 0.587 * g + 0.114 * b;

/** Every frame of the camera clip as SW×SH luma. */
function clipLuma(y4m) {
  const rgb = execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-i', y4m, '-vf', `scale=${SW}:${SH}:flags=area`, '-pix_fmt', 'rgb24', '-f', 'rawvideo', '-'], { maxBuffer: 1 << 28 });
  const n = rgb.length / (SW * SH * 3);
  return Array.from({ length: n }, (_, k) => {
    const y = new Float32Array(SW * SH);
    for (let p = 0; p < SW * SH; p++) {
      const o = (k * SW * SH + p) * 3;
      y[p] = luma(rgb[o], rgb[o + 1], rgb[o + 2]);
    }
    return y;
  });
}

const boxDiff = (a, b, boxes) => {
  let s = 0, n = 0;
  for (const r of boxes) for (let y = r.y0; y < r.y1; y++) for (let x = r.x0; x < r.x1; x++) {
    s += Math.abs(a[y * SW + x] - b[y * SW + x]);
    n++;
  }
  return s / n;
};
/** The closest any clip frame comes to an output frame in `boxes` (mean |Δluma|). */
const nearest = (out, boxes) => Math.min(...raw.map((r) => boxDiff(out, r, boxes)));
/** The same against the clip's frames blurred as the full avatar's backdrop blurs them. */
const nearestBlurred = (out, boxes) => Math.min(...rawBlurred.map((r) => boxDiff(out, r, boxes)));

/**
 * An SW×SH luma picture blurred as src/shared/face-swap.ts's FrameBlur blurs a frame: averaged
 * down to 1/BLUR_FACTOR of the camera's size (SW/BLUR × SH/BLUR here) and magnified bilinearly.
 */
function blurred(y) {
  const k = SW / (640 / BLUR_FACTOR);
  const bw = Math.round(SW / k), bh = Math.round(SH / k);
  const small = new Float32Array(bw * bh);
  for (let j = 0; j < bh; j++) for (let i = 0; i < bw; i++) {
    let s = 0, n = 0;
    for (let yy = Math.floor(j * k); yy < Math.min(SH, Math.floor((j + 1) * k)); yy++) for (let xx = Math.floor(i * k); xx < Math.min(SW, Math.floor((i + 1) * k)); xx++) {
      s += y[yy * SW + xx];
      n++;
    }
    small[j * bw + i] = s / n;
  }
  const out = new Float32Array(SW * SH);
  const at = (i, j) => small[Math.min(bh - 1, Math.max(0, j)) * bw + Math.min(bw - 1, Math.max(0, i))];
  for (let yy = 0; yy < SH; yy++) for (let xx = 0; xx < SW; xx++) {
    const u = ((xx + 0.5) * bw) / SW - 0.5, v = ((yy + 0.5) * bh) / SH - 0.5;
    const i = Math.floor(u), j = Math.floor(v), a = u - i, b = v - j;
    out[yy * SW + xx] = (1 - b) * ((1 - a) * at(i, j) + a * at(i + 1, j)) + b * ((1 - a) * at(i, j + 1) + a * at(i + 1, j + 1));
  }
  return out;
}

/** The avatar model dist/chrome ships as 'anime', if any. */
const shippedAvatars = JSON.parse(readFileSync(join(root, 'dist/chrome/models/manifest.json'), 'utf8')).models.filter((m) => m.kind === 'avatar' && m.folder);
const shipped = shippedAvatars.find((m) => m.id === 'anime');
/** A second avatar style the popup offers, if one ships. */
const otherStyle = shipped && shippedAvatars.find((m) => m.id !== 'anime');

/**
 * dist/chrome itself when it ships avatar 'anime'; else a copy whose models/manifest.json lists
 * only the untrained fixture as 'anime' (withFixture), or no avatar model at all.
 */
function extensionVariant(withFixture) {
  if (withFixture && shipped) return null;
  const dir = mkdtempSync(join(tmpdir(), 'brushcam-anime-ext-'));
  cpSync(join(root, 'dist/chrome'), dir, { recursive: true });
  const manifest = JSON.parse(readFileSync(join(dir, 'models/manifest.json'), 'utf8'));
  manifest.models = manifest.models.filter((m) => m.kind !== 'avatar');
  if (withFixture) {
    rmSync(join(dir, 'models/anime/anime'), { recursive: true, force: true });
    cpSync(join(root, 'test/fixtures/anime-tiny'), join(dir, 'models/anime/anime'), { recursive: true, filter: (f) => !f.endsWith('parity.json') });
    manifest.models.push({
      id: 'anime', kind: 'avatar', name: 'Anime (test fixture)', folder: 'anime/anime', inputResolution: [128, 128],
      gflopsAt640x360: 0.01, dataLicence: 'none (untrained)', provenance: 'test/fixtures/anime-tiny',
    });
  }
  writeFileSync(join(dir, 'models/manifest.json'), JSON.stringify(manifest));
  return dir;
}

before(async () => {
  server = await serve({
    '/': join(root, 'test/pages'),
    '/fixtures/': join(root, 'build/fixtures'),
    '/mp/': join(root, 'node_modules/@mediapipe/tasks-vision'),
    '/face/': join(root, 'models/face'),
    '/clips/': join(root, '../shared/data/video/people'),
  });
  variant = extensionVariant(true);
  untrained = extensionVariant(false);
  raw = clipLuma(cam);
  rawBlurred = raw.map(blurred);
});
after(async () => {
  await server?.close();
  for (const d of [variant, untrained]) if (d) rmSync(d, { recursive: true, force: true });
});

/** Loads BlazeFace in the test page (the page's own copy, not the extension's). */
async function pageDetector(page) {
  await page.evaluate(async () => {
    const { FaceDetector, FilesetResolver } = await import('/mp/vision_bundle.mjs');
    const fileset = await FilesetResolver.forVisionTasks('/mp/wasm');
    window.faceTest = await FaceDetector.createFromOptions(fileset, {
      baseOptions: { modelAssetPath: '/face/blaze_face_short_range.tflite', delegate: 'CPU' }, runningMode: 'IMAGE', minDetectionConfidence: 0.5,
    });
  });
}

/**
 * Reads `n` output frames of stream `i`: per frame, the faces BlazeFace finds and the mean
 * |horizontal neighbour difference| (sharpness) in the left margin and in the centre square.
 */
function readOutput(page, i, n, skip = 5) {
  return page.evaluate(async ([i, n, skip, SW, SH]) => {
    // gum.js shows the first stream it opened in <video id="v">: that is stream i (= 0) here.
    if (i !== 0) throw new Error('readOutput reads the first stream only');
    const track = document.getElementById('v').srcObject.getVideoTracks()[0];
    const reader = new MediaStreamTrackProcessor({ track }).readable.getReader();
    const out = [];
    try {
      for (let k = 0; out.length < n; k++) {
        const { value: frame, done } = await reader.read();
        if (done) break;
        try {
          if (k < skip) continue;
          const w = frame.displayWidth, h = frame.displayHeight;
          const c = new OffscreenCanvas(w, h);
          const x = c.getContext('2d', { willReadFrequently: true });
          x.drawImage(frame, 0, 0);
          const d = x.getImageData(0, 0, w, h).data;
          const sharp = (x0, x1) => {
            let s = 0, m = 0;
            for (let y = 10; y < h - 10; y += 2) for (let xx = x0; xx < x1 - 1; xx++) {
              const p = 4 * (y * w + xx);
              s += Math.abs(d[p] - d[p + 4]) + Math.abs(d[p + 1] - d[p + 5]);
              m += 2;
            }
            return s / m;
          };
          const small = new OffscreenCanvas(SW, SH);
          const sx = small.getContext('2d', { willReadFrequently: true });
          sx.imageSmoothingQuality = 'high';
          sx.drawImage(c, 0, 0, SW, SH);
          const sd = sx.getImageData(0, 0, SW, SH).data;
          const y = [];
          for (let p = 0; p < sd.length; p += 4) y.push(Math.round(0.299 * sd[p] + 0.587 * sd[p + 1] + 0.114 * sd[p + 2]));
          const bmp = c.transferToImageBitmap();
          const faces = faceTest.detect(bmp).detections.length;
          bmp.close();
          out.push({ w, h, ts: frame.timestamp, faces, y, margin: sharp(4, (w - h) / 2 - 4), centre: sharp((w - h) / 2 + 8, (w + h) / 2 - 8) });
        } finally {
          frame.close();
        }
      }
    } finally {
      reader.cancel().catch(() => {});
    }
    return out;
  }, [i, n, skip, SW, SH]);
}

async function waitForState(browser, page, ok, timeoutMs = 90000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const st = (await extensionStatus(browser.context, browser.extensionId, page.url()))?.pipelines?.at(-1);
    if (st && ok(st)) return st;
    if (Date.now() > end) throw new Error(`no such state within ${timeoutMs / 1000} s: ${JSON.stringify(st)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function openCall(browser) {
  const page = await browser.context.newPage();
  await page.goto(`${server.url}/index.html`);
  await page.waitForFunction(() => window.gumTest);
  await pageDetector(page);
  return page;
}

describe('anime avatar on a face clip', () => {
  it('the clip shows a face the detector finds', async () => {
    const browser = await launch({ extension: null });
    try {
      const page = await browser.context.newPage();
      await page.goto(`${server.url}/index.html`);
      await pageDetector(page);
      const found = await page.evaluate(async () => {
        const v = document.createElement('video');
        v.src = '/clips/d3.mp4';
        v.muted = true;
        await new Promise((r, j) => { v.onloadeddata = r; v.onerror = j; });
        let n = 0;
        for (const t of [0.5, 2, 4, 6, 8, 9.5]) {
          v.currentTime = t;
          await new Promise((r) => { v.onseeked = r; });
          n += faceTest.detect(await createImageBitmap(v)).detections.length > 0 ? 1 : 0;
        }
        return n;
      });
      assert.ok(found >= 5, `faces in ${found} of 6 frames of d3.mp4`);
    } finally {
      await browser.close();
    }
  });

  it('fails closed without a trained avatar model: a clear error, neutral frames, never the face', async () => {
    const browser = await launch({ camera: cam, extension: untrained });
    try {
      await setSettings(browser.context, browser.extensionId, { mode: 'anime', avatar: 'anime', presentation: 'face-swap', backend: 'wasm' });
      const page = await openCall(browser);
      const i = await page.evaluate(() => gumTest.open());
      const st = await waitForState(browser, page, (s) => s.state === 'failed');
      assert.match(st.lastError, /avatar model 'anime' is not trained yet/);
      const frames = await readOutput(page, i, 20);
      assert.equal(frames.length, 20);
      for (const f of frames) {
        assert.deepEqual([f.w, f.h], [640, 360]);
        assert.equal(f.faces, 0, 'no face in a fail-closed frame');
        assert.ok(f.centre < 3, `neutral frame: centre sharpness ${f.centre.toFixed(2)}`);
      }
    } finally {
      await browser.close();
    }
  });

  it(`with ${shipped ? `the shipped avatar model (${shipped.provenance.replace(/;.*/, '')})` : 'the untrained fixture'}: face swap and full avatar, never the raw face`, async () => {
    const browser = await launch({ camera: cam, ...(variant ? { extension: variant } : {}) });
    try {
      await setSettings(browser.context, browser.extensionId, { mode: 'anime', avatar: 'anime', presentation: 'face-swap', backend: 'wasm' });
      const page = await openCall(browser);
      const i = await page.evaluate(() => gumTest.open());
      const st = await waitForState(browser, page, (s) => s.state === 'ok' && s.filterMs !== null);
      assert.match(st.backend, /^tfjs-wasm \+ mediapipe/);
      // On WASM the translator runs in a worker of its own beside the engine's (pipelined): the
      // shipped extension must be able to start it (its script, the model, the .wasm files).
      assert.match(st.backend, /translator in its own worker/);
      const swap = await readOutput(page, i, 60, 30);
      const swapStats = swap.map((f) => ({ centre: nearest(f.y, [CENTRE]), margins: nearest(f.y, MARGINS) }));
      for (const [k, f] of swap.entries()) {
        assert.deepEqual([f.w, f.h], [640, 360]);
        assert.ok(swapStats[k].centre > 15, `face swap frame ${k}: the face region is the camera's (nearest clip frame: mean |Δ| ${swapStats[k].centre.toFixed(1)})`);
      }
      // ...while the rest of the frame is the camera's own picture.
      const kept = swapStats.filter((s) => s.margins < 6).length;
      assert.ok(kept >= swap.length * 0.8, `face swap keeps the frame around the face: ${kept}/${swap.length} (${JSON.stringify(swapStats.slice(0, 5))})`);

      await setSettings(browser.context, browser.extensionId, { presentation: 'full-avatar' });
      await waitForState(browser, page, (s) => s.state === 'ok' && s.filter?.presentation === 'full-avatar');
      await new Promise((r) => setTimeout(r, 1000));
      const full = await readOutput(page, i, 30, 10);
      for (const [k, f] of full.entries()) {
        const d = nearest(f.y, [CENTRE]);
        assert.ok(d > 15, `full avatar frame ${k}: the centre is the camera's face (mean |Δ| ${d.toFixed(1)})`);
      }
      // A portrait over the blurred room, checked against the pictures it must and must not be: the
      // margins are the camera's frame blurred as the product blurs it (within the 6 levels face
      // swap's kept frame is held to), and the centre is a picture of its own, as far from that
      // blurred frame as it must be from the camera's face (15 levels): a blurred frame with no
      // portrait on it, or the camera showing through, fails.
      const portraitStats = full.map((f) => ({ margins: nearestBlurred(f.y, MARGINS), centre: nearestBlurred(f.y, [CENTRE]) }));
      const med = (a) => [...a].sort((u, v) => u - v)[a.length >> 1].toFixed(1);
      console.log(`against the blurred clip, median margins / centre: full avatar ${med(portraitStats.map((s) => s.margins))} / ${med(portraitStats.map((s) => s.centre))}, face swap ${med(swap.map((f) => nearestBlurred(f.y, MARGINS)))} / ${med(swap.map((f) => nearestBlurred(f.y, [CENTRE])))}`);
      const portrait = portraitStats.filter((s) => s.margins < 6 && s.centre > 15).length;
      assert.ok(portrait >= full.length * 0.8, `full avatar: a portrait over the blurred frame in ${portrait}/${full.length} frames (against the blurred clip, mean |Δ| margins / centre: ${JSON.stringify(portraitStats.slice(0, 5).map((s) => [+s.margins.toFixed(1), +s.centre.toFixed(1)]))})`);
      // ...and drawn: a portrait has lines at least as strong as the face it stands for (the clip's
      // own edge contrast in the same region), where a blurred frame or a flat tile has next to none.
      const contrastOf = (y) => {
        let s = 0, n = 0;
        for (let yy = CENTRE.y0; yy < CENTRE.y1; yy++) for (let x = CENTRE.x0; x < CENTRE.x1 - 1; x++) {
          s += Math.abs(y[yy * SW + x + 1] - y[yy * SW + x]);
          n++;
        }
        return s / n;
      };
      const meanOf = (a) => a.reduce((x, y) => x + y, 0) / a.length;
      const clipContrast = meanOf(raw.map(contrastOf));
      const drawn = full.filter((f) => contrastOf(f.y) >= clipContrast).length;
      console.log(`full avatar edge contrast in the face region, median ${med(full.map((f) => contrastOf(f.y)))}, the clip's ${clipContrast.toFixed(1)}`);
      assert.ok(drawn >= full.length * 0.8, `full avatar: drawn (edges at least the face's ${clipContrast.toFixed(1)}) in ${drawn}/${full.length} frames`);
      // Steady, by a principle: the avatar may change no more than the face it follows, over the
      // same time, within the product's target for avatar flicker (twice the input's). The face
      // region's total variation in the output (the sum of its frame-to-frame mean |Δ luma|) is
      // compared with the camera's over the same span of camera time (the clip's mean per-frame
      // change of the same region times the camera frames the outputs span). Both are divided by
      // their region's edge contrast (mean |Δ luma| between horizontal neighbours): a moving edge
      // changes pixels in proportion to its contrast, and a drawing's edges are harder than skin's,
      // so this compares motion with motion. A drawing that re-rolls on a steady face, or flickers,
      // changes without moving and scores high.
      const clipRate = raw.slice(1).reduce((a, r, k) => a + boxDiff(r, raw[k], [CENTRE]), 0) / (raw.length - 1);
      const variation = (frames) => {
        let total = 0, changes = 0;
        for (let k = 1; k < frames.length; k++) {
          const d = boxDiff(frames[k].y, frames[k - 1].y, [CENTRE]);
          total += d;
          if (d >= 0.5) changes++;
        }
        const cameraFrames = ((frames.at(-1).ts - frames[0].ts) * CLIP_FPS) / 1e6;
        const contrast = meanOf(frames.map((f) => contrastOf(f.y)));
        return { ratio: (total / contrast) / ((clipRate / clipContrast) * Math.max(1, cameraFrames)), changes, cameraFrames: Math.round(cameraFrames), contrast };
      };
      const vSwap = variation(swap);
      const vFull = variation(full);
      const stability = `face region's change per edge contrast against the camera's over the same time: face swap ${vSwap.ratio.toFixed(2)} (${vSwap.changes} changes over ${vSwap.cameraFrames} camera frames, contrast ${vSwap.contrast.toFixed(1)}), full avatar ${vFull.ratio.toFixed(2)} (${vFull.changes} over ${vFull.cameraFrames}, contrast ${vFull.contrast.toFixed(1)}); clip mean change per frame ${clipRate.toFixed(2)}, contrast ${clipContrast.toFixed(1)}`;
      assert.ok(vSwap.changes >= 3 && vFull.changes >= 3, `the avatar barely changes: ${stability}`);
      assert.ok(vSwap.ratio <= 2 && vFull.ratio <= 2, `the avatar changes more than twice as much as the face it follows: ${stability}`);
      console.log(stability);
      if (otherStyle) {
        // The popup's other avatar style: the same call switches to it live, and it is another
        // drawing of the face, not the anime one and not the camera's.
        await setSettings(browser.context, browser.extensionId, { avatar: otherStyle.id });
        await waitForState(browser, page, (s) => s.state === 'ok' && s.filter?.id === otherStyle.id);
        await new Promise((r) => setTimeout(r, 1000));
        const alt = await readOutput(page, i, 10, 10);
        const fromAnime = alt.map((a) => Math.min(...full.map((f) => boxDiff(a.y, f.y, [CENTRE]))));
        for (const [k, f] of alt.entries()) {
          assert.ok(nearest(f.y, [CENTRE]) > 15, `${otherStyle.id} frame ${k}: the centre is the camera's face`);
          assert.ok(fromAnime[k] > 12, `${otherStyle.id} frame ${k}: the same portrait as anime's (nearest anime frame: mean |Δ| ${fromAnime[k].toFixed(1)})`);
        }
        console.log(`${otherStyle.id}: nearest anime full-avatar frame, centre mean |Δ| ${Math.min(...fromAnime).toFixed(1)}+`);
      }
      console.log(`face swap: nearest clip frame, centre ${Math.min(...swapStats.map((s) => s.centre)).toFixed(1)}+, margins median ${swapStats.map((s) => s.margins).sort((a, b) => a - b)[swapStats.length >> 1].toFixed(1)}; BlazeFace hits on face-swap output ${swap.filter((f) => f.faces).length}/${swap.length}, full avatar ${full.filter((f) => f.faces).length}/${full.length}`);
    } finally {
      await browser.close();
    }
  });
});
