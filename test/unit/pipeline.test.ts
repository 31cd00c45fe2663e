/**
 * Pipeline with Chromium's fake camera (640×480, 20 fps, a green test pattern with a moving
 * disc and a frame counter). This page has no extension: getUserMedia is the raw camera.
 */
import { expect } from '@esm-bundle/chai';
import workerSource from 'virtual:worker-source';
import { createFilter } from '../../src/page/filters/registry';
import { posterizeValue } from '../../src/page/filters/posterize';
import { captureNativeFrameApis } from '../../src/page/frames/source-sink';
import { VideoElementSource } from '../../src/page/frames/polyfill';
import { Pipeline, type PipelineOptions, type PipelineStatus } from '../../src/page/pipeline';
import { maxEdge, meanDiff, pixelsOf, posterizedFraction, sleep, TrackReader, until } from './helpers';

const apis = captureNativeFrameApis();
const intrinsics = {
  Worker,
  Blob,
  createObjectURL: URL.createObjectURL.bind(URL),
  revokeObjectURL: URL.revokeObjectURL.bind(URL),
};
const POSTERIZE = { kind: 'style', id: 'posterize' } as const;

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function camera(video: MediaTrackConstraints | true = true): Promise<MediaStreamTrack> {
  const s = await navigator.mediaDevices.getUserMedia({ video });
  const t = s.getVideoTracks()[0]!;
  cleanups.push(() => t.stop());
  return t;
}

function pipeline(cam: MediaStreamTrack, o: Partial<PipelineOptions> = {}): Pipeline {
  const p = new Pipeline(cam, { apis, workerSource, intrinsics, createFilter, env: { assetBase: null }, ...o });
  cleanups.push(() => p.dispose());
  return p;
}

function reader(track: MediaStreamTrack): TrackReader {
  const r = new TrackReader(track);
  cleanups.push(() => r.cancel());
  return r;
}

/** Expected output of posterize (4 levels) for an RGBA image. */
function posterized(img: ImageData): ImageData {
  const q = new Uint8ClampedArray(256);
  for (let i = 0; i < 256; i++) q[i] = Math.round(255 * posterizeValue(i / 255, 4));
  const out = new ImageData(img.width, img.height);
  for (let i = 0; i < img.data.length; i += 4) {
    out.data[i] = q[img.data[i]!]!;
    out.data[i + 1] = q[img.data[i + 1]!]!;
    out.data[i + 2] = q[img.data[i + 2]!]!;
    out.data[i + 3] = 255;
  }
  return out;
}

/** Fraction of pixels where all channels of a and b are within `tol`. */
function agreement(a: ImageData, b: ImageData, tol: number): number {
  let n = 0;
  for (let i = 0; i < a.data.length; i += 4) {
    if (
      Math.abs(a.data[i]! - b.data[i]!) <= tol &&
      Math.abs(a.data[i + 1]! - b.data[i + 1]!) <= tol &&
      Math.abs(a.data[i + 2]! - b.data[i + 2]!) <= tol
    ) n++;
  }
  return n / (a.data.length / 4);
}

/**
 * Reads frames of the raw camera (a clone): counts them, and while `keepPixels` is set keeps
 * the images of the last few, keyed by timestamp.
 */
class RawRecorder {
  readonly frames = new Map<number, ImageData>();
  count = 0;
  keepPixels = true;
  private stop = false;
  readonly done: Promise<void>;
  constructor(cam: MediaStreamTrack) {
    const clone = cam.clone();
    const r = new TrackReader(clone);
    cleanups.push(async () => {
      this.stop = true;
      await r.cancel();
      clone.stop();
    });
    this.done = (async () => {
      while (!this.stop) {
        const f = await r.next(2000);
        if (!f) {
          if (r.ended) break;
          continue; // a slow moment: keep reading
        }
        this.count++;
        if (this.keepPixels) this.frames.set(f.timestamp, pixelsOf(f));
        f.close();
        if (this.frames.size > 12) this.frames.delete(this.frames.keys().next().value!);
      }
    })();
  }

  nearest(ts: number): { ts: number; img: ImageData } | null {
    let best: { ts: number; img: ImageData } | null = null;
    for (const [t, img] of this.frames) if (!best || Math.abs(t - ts) < Math.abs(best.ts - ts)) best = { ts: t, img };
    return best;
  }
}

async function statusOf(p: Pipeline, cond: (s: PipelineStatus) => boolean, timeoutMs: number): Promise<PipelineStatus | null> {
  let last: PipelineStatus | null = null;
  await until(() => {
    last = p.status();
    return last !== null && cond(last);
  }, timeoutMs, 50);
  return last;
}

describe('Pipeline', () => {
  it("runs in a worker when given one, on the main thread when not", async () => {
    const cam = await camera();
    const inWorker = pipeline(cam);
    await inWorker.ready;
    expect(inWorker.placement).to.equal('worker');
    expect(inWorker.frames).to.equal('native');

    const cam2 = await camera();
    const onMain = pipeline(cam2, { workerSource: null });
    await onMain.ready;
    expect(onMain.placement).to.equal('main-thread');
    expect(onMain.frames).to.equal('native');

    // Both actually move frames.
    inWorker.setFilter({ kind: 'off' });
    onMain.setFilter({ kind: 'off' });
    const a = await reader(inWorker.track).next();
    const b = await reader(onMain.track).next();
    expect(a, 'a frame from the worker pipeline').to.not.equal(null);
    expect(b, 'a frame from the main-thread pipeline').to.not.equal(null);
    a!.close();
    b!.close();
    // Worker status reaches the page, with the placement filled in.
    const s = await statusOf(inWorker, (x) => x.framesOut > 0, 3000);
    expect(s?.placement).to.equal('worker');
    expect(s?.state).to.equal('off');
  });

  for (const placement of ['worker', 'main-thread'] as const) {
    it(`${placement}: frames flow at the camera's rate with their timestamps, posterize changes pixels`, async () => {
      const cam = await camera();
      const raw = new RawRecorder(cam);
      const p = pipeline(cam, placement === 'worker' ? {} : { workerSource: null });
      p.setFilter(POSTERIZE);
      await p.ready;
      expect(p.placement).to.equal(placement);
      const out = reader(p.track);
      // Wait for the filter to produce output, then measure.
      const first = await out.find((f) => posterizedFraction(pixelsOf(f)) > 0.9, 8000);
      expect(first, 'a posterized frame').to.not.equal(null);
      first!.close();
      // Output rate against the camera's, measured over the same two seconds (the machine
      // may be busy with other work; both would slow down together).
      raw.keepPixels = false;
      const n0 = raw.count;
      const got = await out.drain(2000);
      const camFrames = raw.count - n0;
      raw.keepPixels = true;
      console.log(placement, 'frames out', got.count, 'camera frames', camFrames, 'nominal', cam.getSettings().frameRate);
      expect(camFrames, 'camera frames in 2 s').to.be.at.least(10);
      expect(got.count, 'output frames vs camera frames').to.be.at.least(camFrames * 0.6);
      expect(new Set(got.sizes)).to.deep.equal(new Set(['640x480']));
      // Timestamps are the camera's: each output frame matches one raw frame.
      const f = await out.next();
      expect(f).to.not.equal(null);
      const img = pixelsOf(f!);
      const ts = f!.timestamp;
      f!.close();
      await until(() => [...raw.frames.keys()].some((t) => t >= ts), 2000);
      const match = raw.nearest(ts);
      expect(match, 'raw frames recorded').to.not.equal(null);
      console.log(placement, 'ts diff', ts - match!.ts, 'raw ts', [...raw.frames.keys()].slice(-3));
      expect(Math.abs(ts - match!.ts), 'output timestamp vs nearest camera timestamp (µs)').to.be.at.most(1000);
      // The output is posterize(raw frame with that timestamp), and differs from the raw frame.
      const expected = posterized(match!.img);
      const agree = agreement(img, expected, 12);
      const diffRaw = meanDiff(img, match!.img);
      console.log(placement, 'agreement', agree.toFixed(3), 'diff to raw', diffRaw.toFixed(1), 'raw posterized', posterizedFraction(match!.img).toFixed(3));
      expect(agree).to.be.at.least(0.9);
      expect(diffRaw).to.be.above(5);
      expect(posterizedFraction(match!.img), 'the raw camera is not posterized').to.be.below(0.5);
    });
  }

  it('follows applyConstraints on the camera: 320×240 in → 320×240 out', async () => {
    const cam = await camera();
    const p = pipeline(cam);
    p.setFilter(POSTERIZE);
    const out = reader(p.track);
    const big = await out.find((f) => f.displayWidth === 640, 10_000);
    expect(big, `a 640×480 frame first (camera ${cam.readyState}, muted ${cam.muted}, pipeline ${JSON.stringify(p.status())})`).to.not.equal(null);
    big!.close();
    await cam.applyConstraints({ width: 320, height: 240 });
    const small = await out.find((f) => f.displayWidth === 320, 5000);
    expect(small, 'a 320-wide frame after applyConstraints').to.not.equal(null);
    expect(small!.displayHeight).to.equal(240);
    expect(posterizedFraction(pixelsOf(small!))).to.be.above(0.9);
    small!.close();
    const after = await out.drain(1000);
    expect(after.count).to.be.greaterThan(5);
    expect(new Set(after.sizes)).to.deep.equal(new Set(['320x240']));
  });

  it('polyfill (<video> + rVFC source, canvas.captureStream sink): right size, posterized', async () => {
    const cam = await camera();
    const raw = new RawRecorder(cam);
    const p = pipeline(cam, { forcePolyfill: true });
    p.setFilter(POSTERIZE);
    await p.ready;
    expect(p.frames).to.equal('polyfill');
    expect(p.placement, 'polyfill streams stay on the main thread').to.equal('main-thread');
    const out = reader(p.track);
    const f = await out.find((x) => posterizedFraction(pixelsOf(x)) > 0.9, 8000);
    expect(f, 'a posterized frame from the polyfill').to.not.equal(null);
    expect(`${f!.displayWidth}x${f!.displayHeight}`).to.equal('640x480');
    const img = pixelsOf(f!);
    f!.close();
    const latest = [...raw.frames.values()].at(-1)!;
    expect(meanDiff(img, latest)).to.be.above(5);
    raw.keepPixels = false;
    const n0 = raw.count;
    const got = await out.drain(2000);
    const camFrames = raw.count - n0;
    console.log('polyfill frames out', got.count, 'camera frames', camFrames);
    // The <video> path loses some frames (rVFC follows compositing), but keeps most.
    expect(got.count, 'output frames vs camera frames').to.be.at.least(camFrames * 0.4);
    expect(new Set(got.sizes)).to.deep.equal(new Set(['640x480']));
  });

  for (const forcePolyfill of [false, true]) {
    it(`dispose() ends the loop and the output${forcePolyfill ? ' (polyfill)' : ''}, and leaves the camera to its owner`, async () => {
      const cam = await camera();
      const p = pipeline(cam, { forcePolyfill });
      p.setFilter({ kind: 'off' });
      const out = reader(p.track);
      const f = await out.next(5000);
      expect(f).to.not.equal(null);
      f!.close();
      let stopped = false;
      void p.stopped.then(() => (stopped = true));
      await p.dispose();
      expect(await until(() => stopped, 3000), '`stopped` resolved').to.equal(true);
      // The output track ends, or at least delivers nothing more.
      await sleep(200);
      const late = p.track.readyState === 'ended' ? null : await out.next(1000);
      late?.close();
      expect(p.track.readyState === 'ended' || late === null, `output ${p.track.readyState} and delivering`).to.equal(true);
      expect(cam.readyState, 'camera still live').to.equal('live');
      expect(p.status()?.state).to.be.oneOf(['off', undefined]);
    });
  }

  it('dispose() before the worker is up still ends cleanly', async () => {
    const cam = await camera();
    const p = pipeline(cam);
    await p.dispose();
    await p.stopped;
    expect(p.track.readyState).to.equal('ended');
  });

  it('holds no camera frames while its worker starts: the processor is made when reading begins', async () => {
    // An unread processor queues camera frames, and every track of a camera shares a few
    // capture buffers: a few pipelines starting at once on a busy machine could hold them all.
    const cam = await camera();
    const Native = apis.Processor!;
    let made = 0;
    const Counting = class extends (Native as unknown as new (init: { track: MediaStreamTrack; maxBufferSize?: number }) => object) {
      constructor(init: { track: MediaStreamTrack; maxBufferSize?: number }) {
        super(init);
        made++;
      }
    } as unknown as typeof Native;
    // A worker that takes 800 ms before it says it is ready.
    const slow = `{ const t0 = Date.now(); while (Date.now() - t0 < 800) {} }\n${workerSource}`;
    const p = pipeline(cam, { apis: { ...apis, Processor: Counting }, workerSource: slow });
    p.setFilter(POSTERIZE);
    await sleep(300);
    expect(made, 'processors made before the worker was ready').to.equal(0);
    await p.ready;
    expect(p.placement).to.equal('worker');
    expect(made).to.equal(1);
    const got = await reader(p.track).drain(1500);
    expect(got.count, 'frames in 1.5 s after the worker started (camera 20 fps)').to.be.greaterThan(10);
  });

  describe('hidden tab (polyfill timer clock)', () => {
    const proto = HTMLVideoElement.prototype as HTMLVideoElement & { requestVideoFrameCallback: (cb: VideoFrameRequestCallback) => number };
    const nativeRvfc = proto.requestVideoFrameCallback;
    let hidden = false;
    let rvfcCallbacks = 0;

    function setHidden(h: boolean): void {
      hidden = h;
      Object.defineProperty(document, 'hidden', { configurable: true, get: () => hidden });
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => (hidden ? 'hidden' : 'visible') });
      document.dispatchEvent(new Event('visibilitychange'));
    }

    before(() => {
      // As in a real hidden tab, video frame callbacks stop firing while hidden.
      proto.requestVideoFrameCallback = function (this: HTMLVideoElement, cb: VideoFrameRequestCallback): number {
        return nativeRvfc.call(this, (now, meta) => {
          if (hidden) return;
          rvfcCallbacks++;
          cb(now, meta);
        });
      };
    });

    after(() => {
      proto.requestVideoFrameCallback = nativeRvfc;
      setHidden(false);
      delete (document as { hidden?: boolean }).hidden;
      delete (document as { visibilityState?: string }).visibilityState;
    });

    it('VideoElementSource switches to its tick timer while hidden, and back to rVFC', async () => {
      const cam = await camera();
      let ticks = 0;
      const tick = (cb: () => void, ms: number): (() => void) => {
        const id = setTimeout(() => {
          ticks++;
          cb();
        }, ms);
        return () => clearTimeout(id);
      };
      const src = new VideoElementSource(cam, { frameRate: 20, tick });
      const r = src.readable.getReader();
      cleanups.push(() => r.cancel());
      const read = async (ms: number): Promise<number> => {
        let n = 0;
        const end = performance.now() + ms;
        while (performance.now() < end) {
          const { value } = await r.read();
          if (!value) break;
          expect(value.displayWidth).to.equal(640);
          value.close();
          n++;
        }
        return n;
      };
      expect(await read(800), 'frames while visible').to.be.greaterThan(5);
      expect(ticks, 'no timer ticks while visible').to.equal(0);
      setHidden(true);
      const before = rvfcCallbacks;
      const hiddenFrames = await read(1000);
      expect(hiddenFrames, 'frames while hidden').to.be.at.least(8);
      expect(ticks, 'timer ticks while hidden').to.be.at.least(8);
      expect(rvfcCallbacks).to.equal(before);
      setHidden(false);
      const ticksAtShow = ticks;
      await read(300);
      const rv = rvfcCallbacks;
      expect(await read(800)).to.be.greaterThan(5);
      expect(rvfcCallbacks, 'rVFC resumes when visible').to.be.greaterThan(rv);
      expect(ticks - ticksAtShow, 'timer stops when visible').to.be.at.most(1);
    });

    it('a polyfill pipeline keeps delivering frames while the page is hidden', async () => {
      const cam = await camera();
      const p = pipeline(cam, { forcePolyfill: true });
      p.setFilter({ kind: 'off' });
      const out = reader(p.track);
      expect((await out.drain(800)).count).to.be.greaterThan(5);
      setHidden(true);
      await sleep(100);
      const before = rvfcCallbacks;
      const got = await out.drain(1500);
      console.log('hidden pipeline frames', got.count);
      expect(got.count, 'frames while hidden').to.be.at.least(12);
      expect(rvfcCallbacks, 'no video frame callbacks while hidden').to.equal(before);
      setHidden(false);
    });
  });
});
