/**
 * Bench page bundle (not part of the extension): the extension's own Pipeline and filters,
 * driven directly on a page without the extension, so raw and processed tracks of one
 * camera can be timed side by side.
 */
import workerSource from 'virtual:worker-source';
import { createFilter } from '../filters/registry';
import { captureNativeFrameApis } from '../frames/source-sink';
import { Pipeline } from '../pipeline/pipeline';
import type { FilterSpec } from '../settings';

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

(globalThis as unknown as { brushcamBench: unknown }).brushcamBench = { runPassthrough };
