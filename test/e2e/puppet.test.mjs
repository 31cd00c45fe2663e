// End-to-end: the puppet avatar in the extension, with a people clip as the fake camera
// (../shared/data/video/people/d3.mp4) carrying the raw-only checker markers (top-left corner,
// and on the face). Every output frame is searched for the checker over the whole frame (a grid
// of marker-sized tiles): it must never appear, while the same watch on the raw camera sees it.
// Around the character, the frame is exactly the chosen flat backdrop; the character moves with
// the face (its face region changes as the clip's does); without a face it idles.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { extensionStatus, launch, setSettings } from '../support/browser.mjs';
import { FACE_MARKER, MARKER, markedClipCamera, root, stillCamera } from '../support/fixtures.mjs';
import { serve } from '../support/server.mjs';

const W = 640, H = 360;
const cam = markedClipCamera(join(root, '../shared/data/video/people/d3.mp4'), { width: W, height: H, seconds: 10, faceMarker: true });
/** Marker-sized tiles over the whole frame (the last row and column overlap the edge), and the face marker. */
const TILES = [];
for (let y = 0; y < H; y += MARKER.size) for (let x = 0; x < W; x += MARKER.size) {
  TILES.push({ ...MARKER, x: Math.min(x, W - MARKER.size), y: Math.min(y, H - MARKER.size) });
}
const WATCH = [MARKER, FACE_MARKER, ...TILES];
const BACKDROP = [0x20, 0x40, 0x60];
let server;

before(async () => {
  server = await serve({ '/': join(root, 'test/pages') });
});
after(async () => {
  await server?.close();
});

async function waitForState(browser, page, ok, timeoutMs = 90000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const st = (await extensionStatus(browser.context, browser.extensionId, page.url()))?.pipelines?.at(-1);
    if (st && ok(st)) return st;
    if (Date.now() > end) throw new Error(`no such state within ${timeoutMs / 1000} s: ${JSON.stringify(st)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/**
 * Watches stream i until `frames` frames were seen (or `maxMs` passed): every frame searched for
 * the checker in every tile.
 */
async function watchFor(page, i, frames, maxMs = 60000) {
  await page.evaluate(([i, m]) => gumTest.watch(i, m), [i, WATCH]);
  const end = Date.now() + maxMs;
  while (Date.now() < end && (await page.evaluate((i) => gumTest.watched(i), i)).frames < frames) {
    await new Promise((r) => setTimeout(r, 250));
  }
  return page.evaluate((i) => gumTest.watched(i, true), i);
}

/**
 * `n` output frames of stream 0: per frame, the largest distance (max over RGB) of the side
 * margins from the backdrop colour, and a 32×18 luma picture of the character's square.
 */
function readFrames(page, n, skip = 5) {
  return page.evaluate(async ([n, skip, bg]) => {
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
          let margin = 0;
          const side = (w - h) / 2 - 4; // the character stands in the centred h×h square
          for (let y = 0; y < h; y++) for (const xx of [0, side >> 1, side - 1, w - side, w - 1]) {
            const p = 4 * (y * w + xx);
            for (let ch = 0; ch < 3; ch++) margin = Math.max(margin, Math.abs(d[p + ch] - bg[ch]));
          }
          const s = new OffscreenCanvas(32, 18);
          const sx = s.getContext('2d', { willReadFrequently: true });
          sx.drawImage(c, (w - h) / 2, 0, h, h * 0.5625, 0, 0, 32, 18);
          const sd = sx.getImageData(0, 0, 32, 18).data;
          const y = [];
          for (let p = 0; p < sd.length; p += 4) y.push(0.299 * sd[p] + 0.587 * sd[p + 1] + 0.114 * sd[p + 2]);
          out.push({ w, h, margin, y });
        } finally {
          frame.close();
        }
      }
    } finally {
      reader.cancel().catch(() => {});
    }
    return out;
  }, [n, skip, BACKDROP]);
}

describe('puppet avatar', () => {
  it('on a face clip: the drawn character follows the face, never a camera pixel (the checker is nowhere in any frame)', async () => {
    const browser = await launch({ camera: cam });
    try {
      await setSettings(browser.context, browser.extensionId, {
        mode: 'anime', presentation: 'puppet', puppetCharacter: 'mika', backdrop: 'colour', backdropColour: '#204060', backend: 'wasm',
      });
      const page = await browser.context.newPage();
      await page.goto(`${server.url}/index.html`);
      await page.waitForFunction(() => window.gumTest);
      const i = await page.evaluate(() => gumTest.open());
      assert.equal(i, 0);
      const st = await waitForState(browser, page, (s) => s.state === 'ok' && s.filterMs !== null);
      assert.match(st.backend, /^tfjs-wasm \+ mediapipe/);
      assert.equal(st.filter?.presentation, 'puppet');
      const w = await watchFor(page, i, 30);
      assert.ok(w.frames >= 30, `frames watched: ${w.frames}`);
      assert.deepEqual(w.sizes, [`${W}x${H}`]);
      assert.ok(w.rawBy.every((n) => n === 0), `the raw checker in the output: ${JSON.stringify(w.rawBy)} (tiles: corner, face, then the grid)`);
      const frames = await readFrames(page, 40);
      for (const [k, f] of frames.entries()) assert.ok(f.margin <= 3, `frame ${k}: the margins are the backdrop (max |Δ| ${f.margin})`);
      // the character moves with the face: its square changes between frames
      let moves = 0;
      for (let k = 1; k < frames.length; k++) {
        const d = frames[k].y.reduce((a, v, j) => a + Math.abs(v - frames[k - 1].y[j]), 0) / frames[k].y.length;
        if (d > 0.3) moves++;
      }
      assert.ok(moves >= 5, `the character moved between ${moves} of ${frames.length - 1} frame pairs`);
      const status = await waitForState(browser, page, (s) => s.state === 'ok');
      console.log(`puppet e2e: ${w.frames} frames watched over ${WATCH.length} tiles, none with the checker; margins max |Δ| ${Math.max(...frames.map((f) => f.margin))}; moved in ${moves}/${frames.length - 1}; filter median ${status.filterMs?.toFixed?.(1)} ms, ${status.backend}`);
      // The same watch on the raw camera (Brushcam off) sees the checker: the check can fail.
      await setSettings(browser.context, browser.extensionId, { mode: 'off' });
      await waitForState(browser, page, (s) => s.filter?.kind === 'off');
      await new Promise((r) => setTimeout(r, 1000));
      const raw = await watchFor(page, i, 10);
      assert.ok(raw.rawBy[0] > 0 && raw.rawBy[1] > 0, `the watch sees the raw camera's checkers: ${JSON.stringify(raw.rawBy.slice(0, 2))}`);
    } finally {
      await browser.close();
    }
  });

  it('the popup offers the puppet: character with a drawn thumbnail, hair, skin and eye colours, no blurred room', async () => {
    const browser = await launch();
    try {
      const popup = await browser.context.newPage();
      await popup.goto(`chrome-extension://${browser.extensionId}/popup.html`);
      assert.equal(await popup.isVisible('#puppet-row'), false, 'hidden until the puppet is chosen');
      await popup.check('input[name=mode][value=anime]');
      await popup.selectOption('#presentation', 'puppet');
      await popup.waitForSelector('#puppet-row', { state: 'visible' });
      assert.deepEqual(await popup.$$eval('#puppet-character option', (os) => os.map((o) => o.value)), ['mika', 'kit']);
      assert.equal(await popup.$eval('#backdrop option[value=blur]', (o) => o.disabled), true, 'the room is not offered behind the puppet');
      const thumb = () => popup.$eval('#puppet-thumb', (c) => {
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        const colours = new Set();
        for (let p = 0; p < d.length; p += 4) colours.add((d[p] << 16) | (d[p + 1] << 8) | d[p + 2]);
        return { colours: colours.size, centre: [...d.slice(4 * (36 * c.width + 48), 4 * (36 * c.width + 48) + 3)] };
      });
      const mika = await thumb();
      assert.ok(mika.colours > 20, `a drawing in the thumbnail (${mika.colours} colours)`);
      await popup.selectOption('#puppet-character', 'kit');
      await popup.waitForFunction(() => document.getElementById('puppet-hair').value === '#d9772b');
      assert.notDeepEqual((await thumb()).centre, mika.centre, 'the thumbnail shows Kit');
      await popup.$eval('#puppet-eyes', (e) => {
        e.value = '#123456';
        e.dispatchEvent(new Event('change'));
      });
      await popup.waitForFunction(async () => (await chrome.storage.local.get('brushcam.settings'))['brushcam.settings']?.puppetEyes === '#123456');
      const s = await popup.evaluate(async () => (await chrome.storage.local.get('brushcam.settings'))['brushcam.settings']);
      assert.deepEqual([s.mode, s.presentation, s.puppetCharacter, s.puppetHair, s.puppetEyes], ['anime', 'puppet', 'kit', '#d9772b', '#123456']);
    } finally {
      await browser.close();
    }
  });

  it('without a face the character idles over the painted scene, never the camera', async () => {
    const still = stillCamera(W, H);
    const browser = await launch({ camera: still.y4m });
    try {
      await setSettings(browser.context, browser.extensionId, { mode: 'anime', presentation: 'puppet', puppetCharacter: 'kit', backdrop: 'scene', backend: 'wasm' });
      const page = await browser.context.newPage();
      await page.goto(`${server.url}/index.html`);
      await page.waitForFunction(() => window.gumTest);
      const i = await page.evaluate(() => gumTest.open());
      await waitForState(browser, page, (s) => s.state === 'ok' && s.filterMs !== null);
      const w = await watchFor(page, i, 20);
      assert.ok(w.frames >= 20, `frames watched: ${w.frames}`);
      assert.ok(w.rawBy.every((n) => n === 0), `the raw checker in the output: ${JSON.stringify(w.rawBy)}`);
    } finally {
      await browser.close();
    }
  });
});
