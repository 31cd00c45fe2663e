// End-to-end in real Firefox ESR (Debian's firefox-esr, driven over WebDriver BiDi by
// puppeteer-core; test/support/firefox.mjs): build/firefox-test (dist/firefox plus test-only
// scripts that set settings and read status from the page, and play a picture as the camera on
// pages opened with ?testcam=) on local pages. Firefox's fake camera is a flat colour that changes
// over time; the still with the raw-only checker marker (test/support/fixtures.mjs) and a frame of
// a face clip are played as the camera where a test needs a picture.
// Cases: off is the live camera; a painting style filters live and switches back live; a neural
// style and the avatar never show a raw frame; strict CSP; a call in a cross-origin iframe follows
// the top site's switch; five calls stopped in random order; a hidden tab keeps sending; a filter
// that cannot load fails closed.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { extensionStatus, launchFirefox, setSettings, toolbarState, waitForPipeline } from '../support/firefox.mjs';
import { fixturesDir, MARKER, root, stillCamera } from '../support/fixtures.mjs';
import { serve } from '../support/server.mjs';
import { needs } from '../support/must-run.mjs';

const still = stillCamera(640, 360);
const STILL = '/fixtures/still2-640x360.png';
const models = JSON.parse(readFileSync(join(root, 'dist/firefox/models/manifest.json'), 'utf8')).models;
const neural = models.find((m) => m.kind === 'style' && m.folder);
const avatar = models.find((m) => m.kind === 'avatar' && m.folder && m.id === 'anime');
const FACE = '/fixtures/d3-face-640x360.png';
const faceClip = join(root, '../shared/data/video/people/d3.mp4');
if (existsSync(faceClip) && !existsSync(join(fixturesDir, 'd3-face-640x360.png'))) {
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-ss', '2', '-i', faceClip, '-frames:v', '1',
    '-vf', 'scale=640:360:force_original_aspect_ratio=increase,crop=640:360', join(fixturesDir, 'd3-face-640x360.png')]);
}
const BASE = { enabled: true, mode: 'off', style: 'posterize', disabledSites: [], backend: 'wasm', batterySaver: false, stability: false };

let server, other, ff;
before(async () => {
  server = await serve();
  // Another site for the cross-origin iframe.
  other = await serve(undefined, { host: '127.0.0.2' });
  ff = await launchFirefox();
});
after(async () => {
  await ff?.close();
  await server?.close();
  await other?.close();
});

async function open(path, settings) {
  const page = await ff.browser.newPage();
  await page.goto(`${server.url}${path}`);
  await setSettings(page, { ...BASE, ...settings });
  return page;
}
const frameOf = (page) => page.frames().find((f) => f !== page.mainFrame() && /index\.html/.test(f.url())) ?? page.mainFrame();
async function gum(page) {
  const f = frameOf(page);
  await f.waitForFunction(() => window.gumTest);
  return { f, i: await f.evaluate(() => gumTest.open()) };
}
/** Mean RGB of the centre of one output frame (skipping `skip`). */
const centre = (f, i, skip = 2) => f.evaluate(async (i, skip) => {
  const sig = await gumTest.signature(i, skip);
  const at = (8 * 16 + 4) * 3; // row 4, column 8 of the 16x9 picture
  return [sig[at], sig[at + 1], sig[at + 2]];
}, i, skip);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** New output frames a <video> presents per second (requestVideoFrameCallback on the track). */
const flow = (f, i, ms = 2000) => f.evaluate((i, ms) => gumTest.rvfc(i, ms), i, ms);
/** The colour changes over time in Firefox's fake camera: a live output follows it. */
async function isLive(f, i) {
  const a = await centre(f, i);
  await sleep(1500);
  const b = await centre(f, i);
  return { a, b, moved: a.some((v, k) => Math.abs(v - b[k]) > 2) };
}
const posterized = (rgb) => rgb.every((v) => [0, 85, 170, 255].some((l) => Math.abs(v - l) <= 12));
/** Waits for posterize to run (after `patch`, if any) and checks an output frame is posterized. */
async function expectPosterized(page, f, i, patch = null) {
  if (patch) await setSettings(page, patch);
  await waitForPipeline(page, (s) => s.filter?.id === 'posterize' && s.state === 'ok' && s.filterMs !== null, 'posterize');
  await sleep(300);
  const c = await centre(f, i);
  assert.ok(posterized(c), `posterized: ${c}`);
}

describe('Brushcam in Firefox ESR', { timeout: 600000 }, () => {
  it('off is the live camera; posterize filters live and switches back to off live; requestVideoFrameCallback works on the track', async () => {
    const page = await open('/index.html', { mode: 'off' });
    try {
      const { f, i } = await gum(page);
      const off = await waitForPipeline(page, (s) => s.state === 'off' && s.framesOut > 10, 'off');
      assert.equal(off.frames, 'polyfill');
      const live = await isLive(f, i);
      assert.ok(live.moved, `off follows the camera: ${live.a} then ${live.b}`);
      const rate = await flow(f, i);
      console.log(`firefox off: ${rate.toFixed(1)} frames/s presented`);
      // Liveness, not speed (the bench measures that): the frozen track presented none.
      assert.ok(rate >= 2, `frames keep coming to a <video> (requestVideoFrameCallback ${rate}/s)`);

      await setSettings(page, { mode: 'style', style: 'posterize' });
      await waitForPipeline(page, (s) => s.filter?.id === 'posterize' && s.state === 'ok' && s.filterMs !== null, 'posterize');
      await sleep(300);
      const p1 = await isLive(f, i);
      assert.ok(posterized(p1.a) && posterized(p1.b), `posterized: ${p1.a}, ${p1.b}`);
      assert.ok((await flow(f, i, 1500)) >= 1.3, 'posterize: frames keep coming');

      await setSettings(page, { mode: 'off' });
      await waitForPipeline(page, (s) => s.state === 'off', 'off again');
      await sleep(300);
      const back = await isLive(f, i);
      assert.ok(back.moved && !(posterized(back.a) && posterized(back.b)), `off again is the camera: ${back.a}, ${back.b}`);
    } finally {
      await page.close();
    }
  });

  it('a neural style and the avatar filter live on a picture and never show the raw marker', async () => {
    const page = await open(`/index.html?testcam=${STILL}`, { mode: 'off' });
    try {
      const { f, i } = await gum(page);
      await waitForPipeline(page, (s) => s.state === 'off' && s.framesOut > 5, 'off');
      const raw = await f.evaluate((i, ref) => gumTest.compare(i, ref, 3), i, STILL);
      assert.ok(raw.diffRaw < 8, `off: the picture as it is (mean |diff| ${raw.diffRaw.toFixed(1)})`);
      if (!neural) return;
      await setSettings(page, { mode: 'style', style: neural.id });
      await waitForPipeline(page, (s) => s.filter?.id === neural.id && s.state === 'ok' && /^tfjs-wasm/.test(s.backend ?? ''), neural.id, 180000);
      await f.evaluate((i, m) => gumTest.watch(i, m), i, MARKER);
      await sleep(4000);
      const w = await f.evaluate((i) => gumTest.watched(i, true), i);
      const r = await f.evaluate((i, ref) => gumTest.compare(i, ref, 2), i, STILL);
      console.log(`firefox ${neural.id}: ${w.frames} frames in 4 s, raw ${w.raw}, diff to camera ${r.diffRaw.toFixed(1)}`);
      assert.equal(w.raw, 0, 'no raw frame');
      assert.ok(w.frames > 0, 'frames flow');
      assert.ok(r.diffRaw > 12, `styled, not the camera (${r.diffRaw.toFixed(1)})`);
    } finally {
      await page.close();
    }
  });

  it('the avatar (face swap, then full avatar) replaces the face live, with or without WebGL', ...needs(avatar && existsSync(join(fixturesDir, 'd3-face-640x360.png')), 'no avatar model or no face fixture (test/fixtures/d3-face-640x360.png)', async () => {
    const page = await open(`/index.html?testcam=${FACE}`, { mode: 'off' });
    try {
      const { f, i } = await gum(page);
      await waitForPipeline(page, (s) => s.state === 'off' && s.framesOut > 5, 'off');
      // MediaPipe's detector reads images through WebGL; headless Firefox on a machine without a
      // GL driver has none, and there the same BlazeFace model runs on tfjs (WASM).
      const webgl = await f.evaluate(() => !!(new OffscreenCanvas(1, 1).getContext('webgl2') ?? new OffscreenCanvas(1, 1).getContext('webgl')));
      // The picture's regions in 160×90 luma (as test/e2e/anime.test.mjs): the face (d3's eyes to
      // mouth) and the left and right margins.
      const boxes = [{ x0: 60, x1: 100, y0: 38, y1: 75 }, { x0: 0, x1: 14, y0: 0, y1: 90 }, { x0: 146, x1: 160, y0: 0, y1: 90 }];
      const read = async (n) => {
        const r = await f.evaluate((i, ref, boxes, n) => gumTest.regions(i, ref, boxes, n), i, FACE, boxes, n);
        return r.frames.map(([c, l, rr]) => ({ centre: c.diff, centreSharp: c.sharp, margins: (l.diff + rr.diff) / 2, marginSharp: (l.sharp + rr.sharp) / 2, refMarginSharp: (r.ref[1] + r.ref[2]) / 2 }));
      };
      // Control: off is the picture itself by this measure.
      const cam = await read(3);
      assert.ok(cam.every((x) => x.centre < 6 && x.margins < 6), `off: the camera picture (${JSON.stringify(cam)})`);
      const fmt = (xs) => xs.slice(0, 3).map((x) => Object.entries(x).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(' ')).join('; ');
      for (const presentation of ['face-swap', 'full-avatar']) {
        await setSettings(page, { mode: 'anime', avatar: 'anime', presentation });
        const st = await waitForPipeline(page, (s) => s.filter?.kind === 'anime' && s.filter.presentation === presentation && s.state === 'ok' && s.filterMs !== null, presentation, 240000);
        assert.match(st.backend, webgl ? /\+ mediapipe/ : /\+ blazeface-tfjs/, `${presentation}: the detector (WebGL ${webgl})`);
        await sleep(1500);
        const out = await read(10);
        console.log(`firefox avatar ${presentation}: ${st.backend}, ${out.length} frames; ${fmt(out)}`);
        assert.equal(out.length, 10, `${presentation}: frames flow`);
        // Never the camera's face: the face region is far from the picture's in every frame.
        for (const [k, x] of out.entries()) assert.ok(x.centre > 15, `${presentation} frame ${k}: the face region is the camera's (mean |Δ| ${x.centre.toFixed(1)})`);
        if (presentation === 'face-swap') {
          // ...and around it the camera's own picture, as sharp as it is (a fail-closed neutral
          // frame is the scene's average colours, smoothly enlarged: blurred everywhere).
          const kept = out.filter((x) => x.margins < 6 && x.marginSharp > 0.7 * x.refMarginSharp).length;
          assert.ok(kept >= 8, `face swap keeps the frame around the face in ${kept}/10: ${fmt(out)}`);
        } else {
          // A drawn portrait over the blurred frame: the margins blurred, the portrait at least
          // twice as sharp as them (a neutral frame is flat in both).
          const portrait = out.filter((x) => x.marginSharp < 3 && x.centreSharp > 2 * x.marginSharp).length;
          assert.ok(portrait >= 8, `full avatar: a portrait over a blurred frame in ${portrait}/10: ${fmt(out)}`);
        }
      }
    } finally {
      await page.close();
    }
  }));

  it('the test hook answers each request once: no messages go on after the reply', async () => {
    // (It once answered its own replies, and the two bounced messages for good: every video of the
    // page then presented a third of its frames. bench/firefox-message-rate.mjs measures the rates.)
    const page = await open('/index.html', { mode: 'off' });
    try {
      await extensionStatus(page);
      const later = await page.evaluate(() => new Promise((r) => {
        let n = 0;
        const on = () => n++;
        addEventListener('message', on);
        setTimeout(() => { removeEventListener('message', on); r(n); }, 1000);
      }));
      assert.equal(later, 0, `messages in the second after the replies: ${later}`);
    } finally {
      await page.close();
    }
  });

  it('the puppet: a drawn character over a flat colour, the checker nowhere in the frame, with or without WebGL', async () => {
    const page = await open(`/index.html?testcam=${STILL}`, { mode: 'off' });
    try {
      const { f, i } = await gum(page);
      await waitForPipeline(page, (s) => s.state === 'off' && s.framesOut > 5, 'off');
      const webgl = await f.evaluate(() => !!(new OffscreenCanvas(1, 1).getContext('webgl2') ?? new OffscreenCanvas(1, 1).getContext('webgl')));
      await setSettings(page, { mode: 'anime', presentation: 'puppet', puppetCharacter: 'kit', backdrop: 'colour', backdropColour: '#204060' });
      // marker-sized tiles over the whole frame: the checker may show nowhere
      const tiles = [];
      for (let y = 0; y < 360; y += MARKER.size) for (let x = 0; x < 640; x += MARKER.size) tiles.push({ ...MARKER, x: Math.min(x, 576), y: Math.min(y, 296) });
      // without WebGL (headless here) the detector runs the same BlazeFace on tfjs: the puppet runs either way
      const st = await waitForPipeline(page, (s) => s.filter?.presentation === 'puppet' && s.state === 'ok' && s.filterMs !== null, 'puppet', 180000);
      const sig = await f.evaluate((i) => gumTest.signature(i, 3), i);
      for (let row = 0; row < 9; row++) for (const col of [0, 1, 2, 13, 14, 15]) {
        const cell = sig.slice(3 * (16 * row + col), 3 * (16 * row + col) + 3);
        assert.ok(cell.every((v, ch) => Math.abs(v - [0x20, 0x40, 0x60][ch]) <= 3), `margin cell ${col},${row} is the backdrop: ${cell}`);
      }
      console.log(`firefox puppet (WebGL: ${webgl}): ${st.backend}, filter ${st.filterMs?.toFixed?.(1)} ms`);
      await f.evaluate((i, m) => gumTest.watch(i, m), i, [MARKER, ...tiles]);
      await sleep(4000);
      const w = await f.evaluate((i) => gumTest.watched(i, true), i);
      assert.ok(w.frames > 0, 'frames flow');
      assert.ok(w.rawBy.every((n) => n === 0), `the checker in the output: ${JSON.stringify(w.rawBy)}`);
    } finally {
      await page.close();
    }
  });

  it('a page with a strict CSP: off and posterize, on the main thread', async () => {
    const page = await open('/strict/index.html', { mode: 'off' });
    try {
      const { f, i } = await gum(page);
      const st = await waitForPipeline(page, (s) => s.state === 'off' && s.framesOut > 10, 'off');
      assert.equal(st.placement, 'main-thread');
      assert.ok((await isLive(f, i)).moved, 'off follows the camera');
      await expectPosterized(page, f, i, { mode: 'style', style: 'posterize' });
    } finally {
      await page.close();
    }
  });

  it('a call in a cross-origin iframe follows the top site\'s switch (Firefox has no location.ancestorOrigins)', async () => {
    const inner = `${other.url}/index.html`;
    const page = await open(`/xframe.html?src=${encodeURIComponent(inner)}`, { mode: 'style', style: 'posterize', disabledSites: ['127.0.0.1'] });
    try {
      await page.waitForFrame((fr) => fr.url().startsWith(inner));
      const { f, i } = await gum(page);
      const st = await waitForPipeline(page, (s) => s.state === 'off' && s.framesOut > 5, 'off on the top site');
      const reply = await extensionStatus(page);
      assert.equal(reply.site, '127.0.0.1', 'the frame counts as the top site');
      assert.equal(new URL(reply.url).hostname, '127.0.0.2');
      assert.equal(st.filter.kind, 'off');
      // Switched off for the iframe's own site only: the top site's setting (on) applies.
      await expectPosterized(page, f, i, { disabledSites: ['127.0.0.2'] });
    } finally {
      await page.close();
    }
  });

  it('five calls stopped in random order: the others keep flowing, then the camera is released', async () => {
    const page = await open('/index.html', { mode: 'style', style: 'posterize' });
    try {
      const f = page.mainFrame();
      await f.waitForFunction(() => window.gumTest);
      const ids = [];
      for (let k = 0; k < 5; k++) ids.push(await f.evaluate(() => gumTest.open()));
      await waitForPipeline(page, () => true, 'pipelines');
      // (Liveness, not speed: at least two new frames in 1.5 s; a stalled track presents none.)
      for (const i of ids) assert.ok((await flow(f, i, 1500)) >= 1.3, `call ${i} flows`);
      const order = [...ids].sort(() => Math.random() - 0.5);
      console.log(`firefox five calls, stop order ${order}`);
      for (let k = 0; k < order.length; k++) {
        await f.evaluate((i) => gumTest.stop(i), order[k]);
        for (const j of order.slice(k + 1)) assert.ok((await flow(f, j, 1500)) >= 1.3, `call ${j} flows after ${order.slice(0, k + 1)} stopped`);
      }
      await sleep(1500);
      const cams = (await extensionStatus(page))?.cameras ?? [];
      assert.equal(cams.length, 5);
      assert.ok(cams.every((c) => c.state === 'ended' && c.outputs === 0), `every camera released: ${JSON.stringify(cams)}`);
    } finally {
      await page.close();
    }
  });

  it('a hidden tab keeps sending filtered frames in a call', async () => {
    const page = await open('/index.html', { mode: 'style', style: 'posterize' });
    try {
      const { f, i } = await gum(page);
      await waitForPipeline(page, (s) => s.filter?.id === 'posterize' && s.state === 'ok', 'posterize');
      const { call } = await f.evaluate((i) => gumTest.call(i), i);
      const rate = async () => {
        const a = await f.evaluate((k) => gumTest.callStats(k), call);
        await sleep(3000);
        const b = await f.evaluate((k) => gumTest.callStats(k), call);
        return (b.encoded - a.encoded) / 3;
      };
      await sleep(1000);
      const visible = await rate();
      const other = await ff.browser.newPage();
      await other.bringToFront();
      await sleep(500);
      assert.equal(await f.evaluate(() => document.visibilityState), 'hidden');
      const hidden = await rate();
      const st = (await extensionStatus(page)).pipelines.at(-1);
      await other.close();
      console.log(`firefox call: ${visible.toFixed(1)} frames/s encoded visible, ${hidden.toFixed(1)} hidden`);
      assert.ok(hidden >= 10, `a hidden tab keeps sending (${hidden.toFixed(1)} frames/s)`);
      assert.equal(st.state, 'ok');
    } finally {
      await page.close();
    }
  });

  it('a filter that cannot load fails closed: neutral frames, never the raw marker', async () => {
    const page = await open(`/index.html?testcam=${STILL}`, { mode: 'style', style: 'no-such-style' });
    try {
      const { f, i } = await gum(page);
      const st = await waitForPipeline(page, (s) => s.state === 'failed', 'failed', 60000);
      assert.ok(st.lastError, 'the failure is named');
      await f.evaluate((i, m) => gumTest.watch(i, m), i, MARKER);
      await sleep(2500);
      const w = await f.evaluate((i) => gumTest.watched(i, true), i);
      console.log(`firefox failed filter: ${w.frames} frames, raw ${w.raw} (${st.lastError})`);
      assert.ok(w.frames > 0, 'frames keep coming');
      assert.equal(w.raw, 0, 'never the raw camera');
    } finally {
      await page.close();
    }
  });

  it('the toolbar button shows paused / on / off / error for the tab', async () => {
    const page = await open(`/index.html?testcam=${STILL}`, { mode: 'style', style: 'posterize' });
    const until = async (pred, what) => {
      const end = Date.now() + 30000;
      for (;;) {
        const t = await toolbarState(page);
        if (pred(t)) return t;
        if (Date.now() > end) throw new Error(`${what}: toolbar ${JSON.stringify(t)}`);
        await sleep(300);
      }
    };
    try {
      await until((t) => t.badge === '' && /no camera/.test(t.title), 'paused before the call');
      await gum(page);
      await until((t) => t.badge === 'ON' && /painting your camera/.test(t.title), 'on during the call');
      await setSettings(page, { disabledSites: ['127.0.0.1'] });
      await until((t) => t.badge === '' && /off for this site/.test(t.title), 'off for the site');
      await setSettings(page, { disabledSites: [], style: 'no-such-style' });
      await until((t) => t.badge === '!' && /stopped/.test(t.title), 'error for a filter that cannot load');
    } finally {
      await page.close();
    }
  });
});
