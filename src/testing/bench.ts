/**
 * Bench page bundle (not part of the extension): the extension's own Pipeline and filters,
 * driven directly on a page without the extension, so raw and processed tracks of one
 * camera can be timed side by side.
 */
import workerSource from 'virtual:worker-source';
import { createFilter } from '../page/filters/registry';
import { captureNativeFrameApis } from '../page/frames/source-sink';
import { Pipeline } from '../page/pipeline';
import type { FilterSpec } from '../shared/settings';

export interface BenchRun {
  placement: string;
  frames: number;
  cameraFps: number;
  outputFps: number;
  overheadMs: { median: number; p95: number; matched: number };
  droppedByPipeline: number;
}

function arrivals(track: MediaStreamTrack, untilMs: number): Promise<Map<number, number>> {
  const seen = new Map<number, number>();
  const reader = new MediaStreamTrackProcessor({ track }).readable.getReader();
  return (async () => {
    const end = performance.now() + untilMs;
    while (performance.now() < end) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const r = await Promise.race([reader.read(), new Promise<null>((res) => (timer = setTimeout(() => res(null), Math.max(1, end - performance.now()))))]);
      clearTimeout(timer);
      if (!r || r.done) break;
      seen.set(r.value.timestamp, performance.now());
      r.value.close();
    }
    await reader.cancel();
    return seen;
  })();
}

const q = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))]! : NaN;
};

/** Camera at w×h → (raw clone, pipeline output); both read for `seconds`. */
export async function runPassthrough(opts: { width: number; height: number; seconds: number; worker: boolean; filter?: FilterSpec }): Promise<BenchRun> {
  const stream = await navigator.mediaDevices.getUserMedia({ video: { width: opts.width, height: opts.height, frameRate: 30 } });
  const camera = stream.getVideoTracks()[0]!;
  const raw = camera.clone();
  const pipeline = new Pipeline(camera, {
    apis: captureNativeFrameApis(),
    workerSource: opts.worker ? workerSource : null,
    intrinsics: { Worker, Blob, createObjectURL: URL.createObjectURL.bind(URL), revokeObjectURL: URL.revokeObjectURL.bind(URL) },
    createFilter,
    env: { assetBase: null },
  });
  pipeline.setFilter(opts.filter ?? { kind: 'off' });
  await pipeline.ready;
  await new Promise((r) => setTimeout(r, 500));
  const ms = opts.seconds * 1000;
  const [a, b] = await Promise.all([arrivals(raw, ms), arrivals(pipeline.track, ms)]);
  const deltas: number[] = [];
  for (const [ts, t] of b) {
    const t0 = a.get(ts);
    if (t0 !== undefined) deltas.push(t - t0);
  }
  const status = pipeline.status();
  await pipeline.dispose();
  pipeline.track.stop();
  camera.stop();
  raw.stop();
  return {
    placement: pipeline.placement,
    frames: b.size,
    cameraFps: a.size / opts.seconds,
    outputFps: b.size / opts.seconds,
    overheadMs: { median: q(deltas, 0.5), p95: q(deltas, 0.95), matched: deltas.length },
    droppedByPipeline: status.dropped,
  };
}

/** Distinct frames a <video> presents per second (requestVideoFrameCallback), for browsers without a track processor. */
function presentedFps(track: MediaStreamTrack, ms: number): Promise<number> {
  const v = document.createElement('video') as HTMLVideoElement & { requestVideoFrameCallback(cb: () => void): number };
  v.muted = true;
  v.srcObject = new MediaStream([track]);
  void v.play();
  let n = 0;
  let on = true;
  const loop = (): void => {
    if (!on) return;
    n++;
    v.requestVideoFrameCallback(loop);
  };
  v.requestVideoFrameCallback(loop);
  return new Promise((r) => setTimeout(() => {
    on = false;
    v.srcObject = null;
    r(n / (ms / 1000));
  }, ms));
}

export interface FpsRun {
  frames: 'native' | 'polyfill';
  placement: string;
  cameraFps: number;
  /** Frames the pipeline took in and gave out per second, over the measured window. */
  inputFps: number;
  outputFps: number;
  /** What a page's <video> presents per second of the processed track (same window). */
  presentedFps: number;
  /** The pump's median and p95 time from reading a frame to handing it to the sink. */
  filterMs: number | null;
  filterMsP95: number | null;
  dropped: number;
  backend: string | null;
}

/**
 * Camera at w×h → pipeline (filter `filter`) in any browser: the camera's own rate (a raw clone
 * on a <video>), then the pipeline's frames in and out over `seconds`, after a warm-up.
 */
export async function runFps(opts: { width: number; height: number; seconds: number; filter?: FilterSpec; assetBase?: string | null; warmupMs?: number }): Promise<FpsRun> {
  const stream = await navigator.mediaDevices.getUserMedia({ video: { width: opts.width, height: opts.height, frameRate: 30 } });
  const camera = stream.getVideoTracks()[0]!;
  const raw = camera.clone();
  const cameraFps = await presentedFps(raw, 2000);
  raw.stop();
  const pipeline = new Pipeline(camera, {
    apis: captureNativeFrameApis(),
    workerSource,
    intrinsics: { Worker, Blob, createObjectURL: URL.createObjectURL.bind(URL), revokeObjectURL: URL.revokeObjectURL.bind(URL) },
    createFilter,
    env: { assetBase: opts.assetBase ?? null },
  });
  pipeline.setFilter(opts.filter ?? { kind: 'off' });
  await pipeline.ready;
  await new Promise((r) => setTimeout(r, opts.warmupMs ?? 1500));
  const s0 = pipeline.status();
  const t0 = performance.now();
  const presented = await presentedFps(pipeline.track, opts.seconds * 1000);
  const s1 = pipeline.status();
  const dt = (performance.now() - t0) / 1000;
  await pipeline.dispose();
  pipeline.track.stop();
  camera.stop();
  return {
    frames: pipeline.frames,
    placement: pipeline.placement,
    cameraFps,
    inputFps: (s1.framesIn - s0.framesIn) / dt,
    outputFps: (s1.framesOut - s0.framesOut) / dt,
    presentedFps: presented,
    filterMs: s1.filterMs,
    filterMsP95: s1.filterMsP95,
    dropped: s1.dropped - s0.dropped,
    backend: s1.backend,
  };
}

(globalThis as unknown as { brushcamBench: unknown }).brushcamBench = { runPassthrough, runFps };
