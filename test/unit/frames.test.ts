/**
 * Frames as cameras and `applyConstraints` deliver them: pixel formats (I420, NV12, RGBA, BGRA),
 * odd and extreme sizes (1×1, 641×479, portrait 360×640, 4096×2160) and quarter-turned frames
 * (rotation 90/270). Each filter path either paints the picture the camera's own track would
 * show, at its display size, or fails with a clear error; none hangs.
 */
import { expect } from '@esm-bundle/chai';
import type { Painter } from '../../src/engine/session';
import { PosterizeFilter, posterizeValue } from '../../src/page/filters/posterize';
import { isSoftwareGl } from '../../src/shared/software-gpu';
import { RemoteFilter } from '../../src/page/filters/remote';
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

  it('a neural style (engine session, WASM): every format and size, and quarter-turns painted upright', async () => {
    await useBackend('wasm', '/node_modules/@tensorflow/tfjs-backend-wasm/dist/');
    const channel = new MessageChannel();
    serveSession(channel.port2, async (): Promise<Painter> => {
      const s = new Stylizer(await PaintNet.load('/models/style/starry_night/'), { fixedMaxSide: 128 });
      // inputMultiple: the page sends pictures at the painter's internal size, as for a real style.
      return { backend: 'tfjs-wasm', tfBackend: 'wasm', inputMultiple: 4, side: () => 128, paint: (b) => s.paint(b), dispose: () => s.dispose() };
    });
    const f = await RemoteFilter.create(channel.port1, { kind: 'style', id: 'starry_night' }, { frameTimeoutMs: 30_000 });
    for (const format of FORMATS) {
      for (const [w, h] of SIZES) {
        const out = await run(f, makeFrame(format, w, h));
        expect([out.displayWidth, out.displayHeight], `${format} ${w}×${h}`).to.deep.equal([w, h]);
        out.close();
      }
    }
    // A quarter-turned frame is painted as the same picture drawn upright would be.
    for (const rotation of [90, 270]) {
      const turned = makeFrame('RGBA', 128, 72, { rotation });
      const [w, h] = [turned.displayWidth, turned.displayHeight];
      const c = new OffscreenCanvas(w, h);
      c.getContext('2d')!.drawImage(turned, 0, 0, w, h);
      const straight = new VideoFrame(c, { timestamp: 1234, alpha: 'discard' });
      const a = await run(f, turned);
      const b = await run(f, straight);
      expect([a.displayWidth, a.displayHeight], `rotation ${rotation}`).to.deep.equal([72, 128]);
      expect(meanDiff(drawn(a, w, h), drawn(b, w, h)), `rotation ${rotation}: same painting as upright`).to.be.below(2);
      a.close();
      b.close();
    }
    f.dispose();
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
    const f = await RemoteFilter.create(channel.port1, { kind: 'style', id: 'fake' });
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
