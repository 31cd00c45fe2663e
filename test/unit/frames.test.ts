/**
 * Frames as cameras and `applyConstraints` deliver them: pixel formats (I420, NV12, RGBA, BGRA),
 * odd and extreme sizes (1×1, 641×479, portrait 360×640, 4096×2160) and quarter-turned frames
 * (rotation 90/270). Each filter path either paints the picture the camera's own track would
 * show, at its display size, or fails with a clear error; none hangs.
 */
import { expect } from '@esm-bundle/chai';
import type { Painter } from '../../src/engine/session';
import { Compositor } from '../../src/engine/avatar/compositor';
import type { FacePlace } from '../../src/shared/face-swap';
import { PosterizeFilter, posterizeValue } from '../../src/page/filters/posterize';
import { isSoftwareGl } from '../../src/shared/software-gpu';
import { FULL_AVATAR_MAX_SIDE, guideScale, MAX_LAG_MS, PAGE_SHARE, PAGE_SHARE_BACK, REFRESH_FRAMES, RemoteFilter } from '../../src/page/filters/remote';
import type { Filter } from '../../src/page/filters/filter';

type Kit = typeof import('../../src/entries/ml-testkit');
const kitUrl = '/build/ml-testkit.js';
const { useBackend, serveSession, PaintNet, Stylizer } = (await import(kitUrl)) as Kit;

const FORMATS = ['I420', 'NV12', 'RGBA', 'BGRA'] as const;
const SIZES: [number, number][] = [[1, 1], [641, 479], [360, 640], [4096, 2160]];

/** A smooth colour picture (plus a bright block in the top-left quarter, to see orientation). */
function rgbAt(x: number, y: number, w: number, h: number): [number, number, number] {
  if (x < w / 4 && y < h / 4) return [250, 250, 250];
  return [Math.round((255 * x) / Math.max(1, w - 1)), Math.round((255 * y) / Math.max(1, h - 1)), 96];
}

/** The picture as a VideoFrame of `format` (BT.601 limited range for the YUV formats). */
function makeFrame(format: (typeof FORMATS)[number], w: number, h: number, extra: Record<string, unknown> = {}): VideoFrame {
  const cw = Math.ceil(w / 2);
  const ch = Math.ceil(h / 2);
  let data: Uint8Array;
  if (format === 'RGBA' || format === 'BGRA') {
    data = new Uint8Array(w * h * 4);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const [r, g, b] = rgbAt(x, y, w, h);
        const p = (y * w + x) * 4;
        data.set(format === 'RGBA' ? [r, g, b, 255] : [b, g, r, 255], p);
      }
    }
  } else {
    data = new Uint8Array(w * h + 2 * cw * ch);
    const U = new Float64Array(cw * ch);
    const V = new Float64Array(cw * ch);
    const n = new Float64Array(cw * ch);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const [r, g, b] = rgbAt(x, y, w, h);
        data[y * w + x] = Math.round(16 + 0.257 * r + 0.504 * g + 0.098 * b);
        const c = (y >> 1) * cw + (x >> 1);
        U[c]! += 128 - 0.148 * r - 0.291 * g + 0.439 * b;
        V[c]! += 128 + 0.439 * r - 0.368 * g - 0.071 * b;
        n[c]!++;
      }
    }
    for (let c = 0; c < cw * ch; c++) {
      const u = Math.round(U[c]! / n[c]!);
      const v = Math.round(V[c]! / n[c]!);
      if (format === 'I420') {
        data[w * h + c] = u;
        data[w * h + cw * ch + c] = v;
      } else {
        data[w * h + 2 * c] = u;
        data[w * h + 2 * c + 1] = v;
      }
    }
  }
  return new VideoFrame(data, { format, codedWidth: w, codedHeight: h, timestamp: 1234, ...extra } as VideoFrameBufferInit);
}

/** What the browser itself draws for a frame (rotation and flip applied), at its display size. */
function drawn(frame: VideoFrame | CanvasImageSource, w: number, h: number): Uint8ClampedArray {
  const c = new OffscreenCanvas(w, h);
  const ctx = c.getContext('2d', { willReadFrequently: true })!;
  ctx.drawImage(frame as CanvasImageSource, 0, 0, w, h);
  return ctx.getImageData(0, 0, w, h).data;
}

/** Mean |a − b| over RGB, on a grid of at most ~4000 samples. */
function meanDiff(a: Uint8ClampedArray, b: Uint8ClampedArray, map: (v: number) => number = (v) => v): number {
  const px = a.length / 4;
  const step = Math.max(1, Math.floor(px / 4000));
  let d = 0;
  let n = 0;
  for (let i = 0; i < px; i += step) {
    for (let c = 0; c < 3; c++) {
      d += Math.abs(a[i * 4 + c]! - map(b[i * 4 + c]!));
      n++;
    }
  }
  return d / n;
}

const posterized = (v: number): number => Math.round(255 * posterizeValue(v / 255, 4));

/** Runs one frame through a filter with a deadline: a hang fails the test instead of stalling it. */
async function run(filter: Filter, frame: VideoFrame, ms = 30_000): Promise<VideoFrame> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hang = new Promise<never>((_, no) => (timer = setTimeout(() => no(new Error(`no answer within ${ms} ms`)), ms)));
  try {
    return await Promise.race([filter.process(frame), hang]);
  } finally {
    clearTimeout(timer);
  }
}

describe('odd frames through every filter path', function () {
  this.timeout(300_000);

  for (const preferCpu of [false, true]) {
    const path = preferCpu ? 'posterize (Canvas 2D)' : 'posterize (WebGL2)';
    it(`${path}: every format and size, display size kept, posterize(picture) out`, async () => {
      const f = await PosterizeFilter.create({ preferCpu });
      for (const format of FORMATS) {
        for (const [w, h] of SIZES) {
          const input = makeFrame(format, w, h);
          const want = drawn(input, w, h);
          const out = await run(f, input);
          const what = `${format} ${w}×${h}`;
          expect([out.displayWidth, out.displayHeight], what).to.deep.equal([w, h]);
          expect(out.timestamp, what).to.equal(1234);
          expect(meanDiff(drawn(out, w, h), want, posterized), what).to.be.below(3);
          out.close();
        }
      }
      f.dispose();
    });

    it(`${path}: quarter-turned frames come out upright, as the camera's track shows them`, async () => {
      const f = await PosterizeFilter.create({ preferCpu });
      for (const rotation of [90, 180, 270]) {
        for (const flip of [false, true]) {
          const input = makeFrame('RGBA', 64, 32, { rotation, flip });
          const [w, h] = [input.displayWidth, input.displayHeight];
          const want = drawn(input, w, h);
          const out = await run(f, input);
          const what = `rotation ${rotation} flip ${flip}`;
          expect([out.displayWidth, out.displayHeight], what).to.deep.equal(rotation % 180 ? [32, 64] : [64, 32]);
          expect(meanDiff(drawn(out, w, h), want, posterized), what).to.be.below(3);
          out.close();
        }
      }
      f.dispose();
    });
  }

  it('posterize on "auto": Canvas 2D where WebGL2 is a CPU rasteriser, WebGL2 on a GPU; same output', async () => {
    const gl = new OffscreenCanvas(1, 1).getContext('webgl2')!;
    const software = isSoftwareGl(gl);
    gl.getExtension('WEBGL_lose_context')?.loseContext();
    const f = await PosterizeFilter.create({ acceptSoftwareGl: false });
    expect(f.backend).to.equal(software ? 'canvas2d (software WebGL)' : 'webgl2');
    const input = makeFrame('RGBA', 160, 90);
    const want = drawn(input, 160, 90);
    const out = await run(f, input);
    expect(meanDiff(drawn(out, 160, 90), want, posterized)).to.be.below(3);
    out.close();
    f.dispose();
  });

  it('posterize (WebGL2): a lost context moves it to Canvas 2D with the same output', async () => {
    const f = await PosterizeFilter.create();
    expect(f.backend).to.equal('webgl2');
    const a = makeFrame('RGBA', 160, 90);
    const want = drawn(a, 160, 90);
    (await run(f, a)).close();
    expect(f.loseContextForTest()).to.equal(true);
    const out = await run(f, makeFrame('RGBA', 160, 90));
    expect(f.backend).to.match(/^canvas2d/);
    expect(meanDiff(drawn(out, 160, 90), want, posterized)).to.be.below(3);
    out.close();
    f.dispose();
  });

  for (const guided of [false, true]) {
    it(`a neural style (engine session, WASM${guided ? ', guided refresh' : ''}): every format and size, and quarter-turns painted upright`, async () => {
      await useBackend('wasm', '/node_modules/@tensorflow/tfjs-backend-wasm/dist/');
      const channel = new MessageChannel();
      serveSession(channel.port2, async (): Promise<Painter> => {
        const s = new Stylizer(await PaintNet.load('/models/style/starry_night/'), { fixedMaxSide: 128 });
        // inputMultiple: the page sends pictures at the painter's internal size, as for a real style.
        return { backend: 'tfjs-wasm', tfBackend: 'wasm', inputMultiple: 4, side: () => 128, paint: (b) => s.paint(b), dispose: () => s.dispose() };
      });
      const f = await RemoteFilter.create(channel.port1, { kind: 'style', id: 'starry_night' }, { frameTimeoutMs: 30_000, guided });
      // Guided refresh draws a frame with the newest painting: the frame before it, once painted.
      const settled = async (frame: VideoFrame): Promise<VideoFrame> => {
        const out = await run(f, frame);
        await f.idle();
        return out;
      };
      for (const format of FORMATS) {
        for (const [w, h] of SIZES) {
          const out = await settled(makeFrame(format, w, h));
          expect([out.displayWidth, out.displayHeight], `${format} ${w}×${h}`).to.deep.equal([w, h]);
          out.close();
        }
      }
      // A quarter-turned frame is painted as the same picture drawn upright would be.
      for (const rotation of [90, 270]) {
        const turned = () => makeFrame('RGBA', 128, 72, { rotation });
        const t = turned();
        const [w, h] = [t.displayWidth, t.displayHeight];
        const c = new OffscreenCanvas(w, h);
        c.getContext('2d')!.drawImage(t, 0, 0, w, h);
        t.close();
        const straight = () => new VideoFrame(c, { timestamp: 1234, alpha: 'discard' });
        (await settled(turned())).close();
        const a = await settled(turned());
        (await settled(straight())).close();
        const b = await settled(straight());
        expect([a.displayWidth, a.displayHeight], `rotation ${rotation}`).to.deep.equal([72, 128]);
        expect(meanDiff(drawn(a, w, h), drawn(b, w, h)), `rotation ${rotation}: same painting as upright`).to.be.below(2);
        a.close();
        b.close();
      }
      f.dispose();
    });
  }
  it('the full avatar goes to the engine at most FULL_AVATAR_MAX_SIDE a side and comes back at the frame\'s size', async () => {
    for (const [presentation, W, H, want] of [['full-avatar', 1280, 720, [640, 360]], ['full-avatar', 640, 360, [640, 360]], ['full-avatar', 360, 640, [360, 640]]] as const) {
      const channel = new MessageChannel();
      const seen: [number, number][] = [];
      serveSession(channel.port2, async (): Promise<Painter> => ({
        backend: 'fake', tfBackend: 'wasm', side: () => 128,
        paint: async (b) => {
          seen.push([b.width, b.height]);
          const c = new OffscreenCanvas(b.width, b.height);
          const g = c.getContext('2d')!;
          g.fillStyle = '#00ff00';
          g.fillRect(0, 0, b.width, b.height);
          return c.transferToImageBitmap();
        },
        dispose: () => {},
      }));
      const f = await RemoteFilter.create(channel.port1, { kind: 'anime', id: 'anime', presentation });
      for (let i = 0; i < 2; i++) {
        const out = await run(f, makeFrame('RGBA', W, H));
        expect([out.displayWidth, out.displayHeight], presentation).to.deep.equal([W, H]);
        const px = drawn(out, W, H);
        expect([px[0], px[1], px[2]], 'the engine\'s picture, magnified').to.deep.equal([0, 255, 0]);
        out.close();
      }
      expect(seen, `${presentation} ${W}x${H}: what the engine got`).to.deep.equal([want, want]);
      expect(Math.max(...want)).to.be.at.most(FULL_AVATAR_MAX_SIDE);
      f.dispose();
    }
  });

  it('face swap is pasted on the page: the engine gets a copy at most FACE_SWAP_MAX_SIDE a side, the frame keeps its own pixels around the avatar, and matches the engine\'s own composition', async () => {
    const W = 1280, H = 720;
    // An avatar: a red-to-blue gradient, feathered by the engine's compositor as face swap pastes it.
    const avatar = new ImageData(128, 128);
    for (let p = 0; p < 128 * 128; p++) avatar.data.set([2 * (p % 128), 60, 255 - 2 * (p % 128), 255], 4 * p);
    const engineSide = new Compositor();
    let place: FacePlace | null = null;
    const seen: [number, number][] = [];
    const channel = new MessageChannel();
    serveSession(channel.port2, async (_spec, o): Promise<Painter> => {
      expect(o?.paste, 'the page asked to paste').to.equal(true);
      return {
        backend: 'fake', tfBackend: 'wasm', side: () => 128, place: () => place,
        paint: async (b) => {
          seen.push([b.width, b.height]);
          return place ? engineSide.facePatch(avatar, null) : createImageBitmap(new ImageData(1, 1));
        },
        dispose: () => {},
      };
    });
    const f = await RemoteFilter.create(channel.port1, { kind: 'anime', id: 'anime', presentation: 'face-swap' });
    const camera = drawn(makeFrame('RGBA', W, H), W, H);
    const cameraBitmap = await createImageBitmap(new ImageData(new Uint8ClampedArray(camera), W, H));
    for (const alpha of [1, 0.5]) {
      // engine pixels (640×360): the face at (320, 170), 150 px, rolled a little
      place = { cx: 320, cy: 170, size: 150, roll: 0.1, alpha };
      const out = await run(f, makeFrame('RGBA', W, H));
      const got = drawn(out, W, H);
      out.close();
      // the engine's own composition of the full frame, the crop at the frame's scale
      const ref = engineSide.compose(cameraBitmap, 'face-swap', { cx: 640, cy: 340, size: 300, roll: 0.1, alpha, state: 'tracking' }, avatar, null);
      const want = drawn(ref, W, H);
      ref.close();
      expect(meanDiff(got, want), `alpha ${alpha}: page paste vs engine composition`).to.be.below(1);
      const at = (x: number, y: number) => Array.from(got.slice(4 * (y * W + x), 4 * (y * W + x) + 3));
      if (alpha === 1) {
        // far from the face: the camera's pixels, untouched; at its centre: the avatar
        for (const [x, y] of [[10, 10], [1270, 700], [200, 600]] as const) expect(at(x, y), `(${x}, ${y})`).to.deep.equal(Array.from(camera.slice(4 * (y * W + x), 4 * (y * W + x) + 3)));
        const [r, g, b] = at(640, 340) as [number, number, number];
        expect(Math.abs(g - 60), 'the avatar at the face').to.be.below(8);
        expect(Math.abs(r + b - 255), 'the avatar at the face').to.be.below(12);
      }
    }
    // No face: the whole frame blurred, the camera's sharp corner edge gone.
    place = null;
    const out = await run(f, makeFrame('RGBA', W, H));
    const got = drawn(out, W, H);
    out.close();
    const edge = 4 * (90 * W + W / 4 - 3); // just inside the white corner
    expect(camera[edge]).to.equal(250);
    expect(got[edge]!, 'blurred').to.be.below(200);
    expect(seen).to.deep.equal([[640, 360], [640, 360], [640, 360]]);
    cameraBitmap.close();
    engineSide.dispose();
    f.dispose();
  });

  it('face swap: an engine answer with a place that cannot be drawn, or with no place, fails the frame', async () => {
    const channel = new MessageChannel();
    serveSession(channel.port2, async (): Promise<Painter> => ({
      backend: 'fake', tfBackend: 'wasm', side: () => 128, place: () => ({ cx: NaN, cy: 0, size: 10, roll: 0, alpha: 1 }),
      paint: () => createImageBitmap(new ImageData(8, 8)),
      dispose: () => {},
    }));
    const f = await RemoteFilter.create(channel.port1, { kind: 'anime', id: 'anime', presentation: 'face-swap' });
    let err: Error | null = null;
    await run(f, makeFrame('RGBA', 320, 180)).then((o) => o.close(), (e: Error) => (err = e));
    expect(err!.message).to.match(/invalid place/);
    f.dispose();
    // an engine that answers a whole frame where the page pastes: no frame either
    const c2 = new MessageChannel();
    serveSession(c2.port2, async (): Promise<Painter> => ({
      backend: 'fake', tfBackend: 'wasm', side: () => 128,
      paint: (b) => createImageBitmap(b),
      dispose: () => {},
    }));
    const g = await RemoteFilter.create(c2.port1, { kind: 'anime', id: 'anime', presentation: 'face-swap' });
    err = null;
    await run(g, makeFrame('RGBA', 320, 180)).then((o) => o.close(), (e: Error) => (err = e));
    expect(err!.message).to.match(/whole frame to a face swap/);
    g.dispose();
  });

  it('a style that changes level (size or tier) cross-fades into it and counts the change', async () => {
    const channel = new MessageChannel();
    let painted = 0;
    // The engine paints red at 64 px for three frames, then blue at 32 px.
    const level = () => (painted < 3 ? 64 : 32);
    serveSession(channel.port2, async (): Promise<Painter> => ({
      backend: 'fake', tfBackend: 'wasm', inputMultiple: 4, side: level,
      paint: async (b) => {
        const c = new OffscreenCanvas(b.width, b.height);
        const g = c.getContext('2d')!;
        g.fillStyle = level() === 64 ? '#ff0000' : '#0000ff';
        g.fillRect(0, 0, b.width, b.height);
        painted++;
        return c.transferToImageBitmap();
      },
      dispose: () => {},
    }));
    const f = await RemoteFilter.create(channel.port1, { kind: 'style', id: 'fake' }, { guided: false });
    const reds: number[] = [];
    for (let i = 0; i < 12; i++) {
      const out = await run(f, makeFrame('RGBA', 128, 72));
      reds.push(drawn(out, 128, 72)[0]!);
      out.close();
    }
    expect(f.levelChanges).to.equal(1);
    expect(reds.slice(0, 3), 'red at the first level').to.deep.equal([255, 255, 255]);
    // Then blue fading in: the red falls step by step to nothing, no jump from 255 to 0.
    const fade = reds.slice(3, 3 + RemoteFilter.FADE_FRAMES);
    for (let i = 1; i < fade.length; i++) expect(fade[i]!).to.be.below(fade[i - 1]!);
    expect(fade[0]!).to.be.within(180, 240);
    expect(reds.slice(3 + RemoteFilter.FADE_FRAMES)).to.deep.equal(reds.slice(3 + RemoteFilter.FADE_FRAMES).map(() => 0));
    f.dispose();
  });
});

describe('guided refresh (styles): the engine paints when it is free, every frame is drawn on the page', function () {
  this.timeout(60_000);

  /** An engine that paints every picture flat in the next of `colours`; `hold()` makes it wait. */
  function fakeEngine(colours: string[], fail: (k: number) => boolean = () => false) {
    const channel = new MessageChannel();
    let n = 0;
    let gate: Promise<void> | null = null;
    let open: (() => void) | null = null;
    const budgets: (number | undefined)[] = [];
    serveSession(channel.port2, async (_spec, o): Promise<Painter> => {
      budgets.push(o?.budgetMs);
      return {
        backend: 'fake', tfBackend: 'wasm', inputMultiple: 4, side: () => 32,
        paint: async (b) => {
          const k = n++;
          if (gate) await gate;
          if (fail(k)) throw new Error(`painting ${k} failed`);
          const c = new OffscreenCanvas(b.width, b.height);
          const g = c.getContext('2d')!;
          g.fillStyle = colours[k % colours.length]!;
          g.fillRect(0, 0, b.width, b.height);
          return c.transferToImageBitmap();
        },
        dispose: () => {},
      };
    });
    return {
      port: channel.port1, budgets, painted: () => n,
      hold: () => { gate = new Promise((r) => (open = r)); },
      release: () => { open?.(); gate = null; },
    };
  }
  /** A flat grey camera frame at camera time `ms`. */
  const grey = (ms: number): VideoFrame => new VideoFrame(new Uint8Array(128 * 72 * 4).fill(128), { format: 'RGBA', codedWidth: 128, codedHeight: 72, timestamp: ms * 1000 });
  const colourOf = (f: VideoFrame): number[] => {
    const px = drawn(f, 128, 72);
    return [px[0]!, px[1]!, px[2]!];
  };
  const RED = [255, 0, 0], GREEN = [0, 255, 0], BLUE = [0, 0, 255];

  it('asks the engine for two frames a painting, and draws frames while one is under way with the newest painting', async () => {
    const e = fakeEngine(['#ff0000', '#00ff00', '#0000ff', '#ffffff']);
    const f = await RemoteFilter.create(e.port, { kind: 'style', id: 'fake' });
    expect(e.budgets.length).to.equal(1);
    expect(e.budgets[0]).to.be.closeTo(0.8 * REFRESH_FRAMES * 1000 / 30, 1e-9);
    const at = async (ms: number, deadline = 30_000): Promise<number[]> => {
      const out = await run(f, grey(ms), deadline);
      expect(out.timestamp).to.equal(ms * 1000);
      expect([out.displayWidth, out.displayHeight]).to.deep.equal([128, 72]);
      const c = colourOf(out);
      out.close();
      return c;
    };
    expect(await at(0)).to.deep.equal(RED); // the first answer tells the page the engine's size
    expect(await at(33)).to.deep.equal(GREEN); // no painting yet for guided refresh: it waits
    e.hold();
    // the engine is busy with frame 66's painting: 66 and 100 come back at once, drawn with 33's
    expect(await at(66, 2000)).to.deep.equal(GREEN);
    expect(await at(100, 2000)).to.deep.equal(GREEN);
    e.release();
    await f.idle();
    expect(e.painted()).to.equal(3); // 0, 33 and 66: 100 was not sent, the engine was busy
    expect(await at(133)).to.deep.equal(BLUE);
    f.dispose();
  });

  it('guided drawing at half size per side when the page\'s work outgrows its share of a frame, back with room', async () => {
    const F = 1000 / 30;
    expect(guideScale(1, null, F)).to.equal(1);
    expect(guideScale(1, 0.9 * PAGE_SHARE * F, F)).to.equal(1);
    expect(guideScale(1, 1.1 * PAGE_SHARE * F, F)).to.equal(2);
    // at half size the work is a quarter: back only when four times it fits under the lower share
    expect(guideScale(2, (1.1 * PAGE_SHARE * F) / 4, F), 'no flip-flop').to.equal(2);
    expect(guideScale(2, (0.9 * PAGE_SHARE_BACK * F) / 4, F)).to.equal(1);
    // frames that leave no time at all (1 µs long): drawn at half size, at the frame's size, painted colours
    const e = fakeEngine(['#ff0000']);
    const f = await RemoteFilter.create(e.port, { kind: 'style', id: 'fake' });
    const frame = (ms: number, durationUs: number): VideoFrame =>
      new VideoFrame(new Uint8Array(128 * 72 * 4).fill(128), { format: 'RGBA', codedWidth: 128, codedHeight: 72, timestamp: ms * 1000, duration: durationUs });
    for (let i = 0; i < 4; i++) {
      const out = await run(f, frame(33 * i, 1));
      expect([out.displayWidth, out.displayHeight]).to.deep.equal([128, 72]);
      if (i > 1) {
        const px = drawn(out, 128, 72);
        for (const k of [0, 4 * (36 * 128 + 64), 4 * (128 * 72 - 1)]) expect([px[k], px[k + 1], px[k + 2]], `pixel ${k / 4}`).to.deep.equal(RED);
      }
      out.close();
    }
    expect(f.guideScale).to.equal(2);
    expect(f.backend).to.include('drawn at 1/2');
    expect(f.levelChanges).to.be.at.least(1);
    // frames ten seconds long: every size fits, back to the frame's size
    for (let i = 4; i < 40 && f.guideScale !== 1; i++) (await run(f, frame(33 * i, 10_000_000))).close();
    expect(f.guideScale).to.equal(1);
    f.dispose();
  });

  it(`does not draw with a painting more than ${MAX_LAG_MS} ms older than the frame: it waits for the one under way`, async () => {
    const e = fakeEngine(['#ff0000', '#00ff00', '#0000ff']);
    const f = await RemoteFilter.create(e.port, { kind: 'style', id: 'fake' });
    (await run(f, grey(0))).close();
    (await run(f, grey(33))).close(); // green, at 33 ms
    e.hold();
    (await run(f, grey(66), 2000)).close(); // sends 66 (blue), drawn green
    let done = false;
    const late = f.process(grey(33 + MAX_LAG_MS + 50)).then((out) => {
      done = true;
      return out;
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(done, 'waits for the painting under way').to.equal(false);
    e.release();
    const out = await late;
    expect(colourOf(out)).to.deep.equal(BLUE);
    out.close();
    f.dispose();
  });

  it('fails the frame after a failed painting (fail closed), then goes on', async () => {
    const e = fakeEngine(['#ff0000', '#00ff00', '#0000ff'], (k) => k === 2);
    const f = await RemoteFilter.create(e.port, { kind: 'style', id: 'fake' });
    (await run(f, grey(0))).close();
    (await run(f, grey(33))).close();
    (await run(f, grey(66))).close(); // its painting (2) fails
    await f.idle();
    let error = '';
    await run(f, grey(100)).then((o) => o.close(), (err: Error) => (error = err.message));
    expect(error).to.equal('painting 2 failed');
    const out = await run(f, grey(133));
    await f.idle();
    expect(colourOf(out)).to.deep.equal(GREEN);
    out.close();
    (await run(f, grey(166))).close();
    expect(e.painted()).to.equal(4);
    f.dispose();
  });

  it('keeps the strokes of a model that draws at the output\'s scale, and refits those of one that does not', async () => {
    // The engine paints a column stripe pattern (2 small pixels red, 2 blue) over a flat camera:
    // a flat camera explains none of it, so the default fit draws the window means (a smooth
    // purple); a model taught at the output's scale says so (`strokes`) and keeps its stripes.
    const spread = async (strokes: boolean): Promise<number> => {
      const channel = new MessageChannel();
      serveSession(channel.port2, async (): Promise<Painter> => ({
        backend: 'fake', tfBackend: 'wasm', inputMultiple: 4, side: () => 32, strokes: () => strokes,
        paint: async (b) => {
          const c = new OffscreenCanvas(b.width, b.height);
          const g = c.getContext('2d')!;
          for (let x = 0; x < b.width; x++) {
            g.fillStyle = Math.floor(x / 2) % 2 ? '#0000ff' : '#ff0000';
            g.fillRect(x, 0, 1, b.height);
          }
          return c.transferToImageBitmap();
        },
        dispose: () => {},
      }));
      const f = await RemoteFilter.create(channel.port1, { kind: 'style', id: 'fake' });
      (await run(f, grey(0))).close();
      (await run(f, grey(33))).close();
      await f.idle();
      const out = await run(f, grey(66));
      const px = drawn(out, 128, 72);
      out.close();
      f.dispose();
      const reds = Array.from({ length: 96 }, (_, x) => px[(36 * 128 + 16 + x) * 4]!);
      return Math.max(...reds) - Math.min(...reds);
    };
    const kept = await spread(true);
    const refit = await spread(false);
    expect(kept, 'stripes kept (red 255 to 0)').to.be.above(200);
    expect(refit, 'window means: the stripes averaged away').to.be.below(kept / 2);
  });
});
