/** Shared helpers for the browser unit tests (not a test file itself). */
import { requireAll } from 'virtual:test-env';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The browser's own VideoFrame, captured before any test replaces the global. */
export const NativeVideoFrame: typeof VideoFrame = globalThis.VideoFrame;

/** A closed VideoFrame reports no format and zero coded size. */
export function isClosed(f: VideoFrame): boolean {
  return f.format === null && f.codedWidth === 0;
}

/** Polls `cond` every `everyMs` until it is true or `timeoutMs` passes; returns the last value. */
export async function until(cond: () => boolean, timeoutMs: number, everyMs = 20): Promise<boolean> {
  const end = performance.now() + timeoutMs;
  for (;;) {
    if (cond()) return true;
    if (performance.now() > end) return false;
    await sleep(everyMs);
  }
}

/** RGBA pixels of a frame (the frame is only read). */
export function pixelsOf(frame: VideoFrame | OffscreenCanvas, w?: number, h?: number): ImageData {
  const width = w ?? (frame instanceof NativeVideoFrame ? frame.displayWidth : frame.width);
  const height = h ?? (frame instanceof NativeVideoFrame ? frame.displayHeight : frame.height);
  const c = new OffscreenCanvas(width, height);
  const ctx = c.getContext('2d', { willReadFrequently: true })!;
  ctx.drawImage(frame, 0, 0, width, height);
  return ctx.getImageData(0, 0, width, height);
}

export function px(img: ImageData, x: number, y: number): [number, number, number] {
  const i = (y * img.width + x) * 4;
  return [img.data[i]!, img.data[i + 1]!, img.data[i + 2]!];
}

/** Largest absolute difference between horizontally or vertically adjacent pixels (any channel). */
export function maxEdge(img: ImageData, x0 = 0, y0 = 0, x1 = img.width, y1 = img.height): number {
  const d = img.data;
  let m = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const i = (y * img.width + x) * 4;
      for (let c = 0; c < 3; c++) {
        if (x + 1 < x1) m = Math.max(m, Math.abs(d[i + c]! - d[i + 4 + c]!));
        if (y + 1 < y1) m = Math.max(m, Math.abs(d[i + c]! - d[i + img.width * 4 + c]!));
      }
    }
  }
  return m;
}

/** Fraction of pixels whose three channels all lie within `tol` of a posterize level (4 levels). */
export function posterizedFraction(img: ImageData, tol = 8): number {
  const levels = [0, 85, 170, 255];
  const near = (v: number): boolean => levels.some((l) => Math.abs(v - l) <= tol);
  const d = img.data;
  let n = 0;
  for (let i = 0; i < d.length; i += 4) if (near(d[i]!) && near(d[i + 1]!) && near(d[i + 2]!)) n++;
  return n / (d.length / 4);
}

/** Mean absolute difference per channel between two same-sized images. */
export function meanDiff(a: ImageData, b: ImageData): number {
  let s = 0;
  for (let i = 0; i < a.data.length; i += 4) {
    s += Math.abs(a.data[i]! - b.data[i]!) + Math.abs(a.data[i + 1]! - b.data[i + 1]!) + Math.abs(a.data[i + 2]! - b.data[i + 2]!);
  }
  return s / (a.data.length / 4) / 3;
}

export function meanLuma(img: ImageData): number {
  let s = 0;
  for (let i = 0; i < img.data.length; i += 4) s += 0.299 * img.data[i]! + 0.587 * img.data[i + 1]! + 0.114 * img.data[i + 2]!;
  return s / (img.data.length / 4);
}

/** Reads frames from a track with the page's own MediaStreamTrackProcessor. */
export class TrackReader {
  private readonly reader: ReadableStreamDefaultReader<VideoFrame>;
  /** The stream has ended (the track ended or the reader was cancelled). */
  ended = false;
  constructor(track: MediaStreamTrack) {
    const P = (globalThis as unknown as { MediaStreamTrackProcessor: new (i: { track: MediaStreamTrack; maxBufferSize?: number }) => { readable: ReadableStream<VideoFrame> } })
      .MediaStreamTrackProcessor;
    // Frames queued here hold capture buffers that every track of the same camera shares: a
    // reader the test is not reading keeps one at most, so that it cannot starve the others.
    this.reader = new P({ track, maxBufferSize: 1 }).readable.getReader();
  }

  /** The next frame, or null when the stream ended or nothing came within `timeoutMs`. */
  async next(timeoutMs = 3000): Promise<VideoFrame | null> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeoutMs)));
    const read = this.reader.read();
    const res = await Promise.race([read, timeout]);
    clearTimeout(timer);
    if (res === 'timeout') {
      // A late frame must still be closed.
      void read.then((r) => r.value?.close(), () => {});
      return null;
    }
    if (res.done) this.ended = true;
    return res.done ? null : res.value;
  }

  /** Reads and closes frames for `ms`; returns how many arrived and their timestamps and sizes. */
  async drain(ms: number): Promise<{ count: number; timestamps: number[]; sizes: string[] }> {
    const end = performance.now() + ms;
    const out = { count: 0, timestamps: [] as number[], sizes: [] as string[] };
    while (performance.now() < end) {
      const f = await this.next(Math.max(1, end - performance.now()));
      if (!f) break;
      out.count++;
      out.timestamps.push(f.timestamp);
      out.sizes.push(`${f.displayWidth}x${f.displayHeight}`);
      f.close();
    }
    return out;
  }

  /** The first frame that `accept` likes within `timeoutMs` (others are closed), or null. */
  async find(accept: (f: VideoFrame) => boolean, timeoutMs: number): Promise<VideoFrame | null> {
    const end = performance.now() + timeoutMs;
    while (performance.now() < end) {
      const f = await this.next(Math.max(1, end - performance.now()));
      if (!f) return null;
      if (accept(f)) return f;
      f.close();
    }
    return null;
  }

  async cancel(): Promise<void> {
    await this.reader.cancel().catch(() => {});
  }
}

/**
 * Skips the running test (reported as skipped) because the browser lacks what it needs, except
 * in CI, where every test must run: there it fails, naming what was missing.
 */
export function skipUnlessRequired(ctx: Mocha.Context, reason: string): never {
  if (requireAll) throw new Error(`must run in CI, but ${reason}`);
  return ctx.skip();
}

/**
 * A 640×360 "camera frame": a London portrait in the middle of a grey frame (`dim`: darkened by
 * that much); `draw` paints more on it before it becomes a bitmap.
 */
export async function londonFrame(dim = 0, draw?: (x: OffscreenCanvasRenderingContext2D) => void): Promise<ImageBitmap> {
  const img = await createImageBitmap(await (await fetch('/__shared/faces/london/neutral_front/001_03.jpg')).blob());
  const c = new OffscreenCanvas(640, 360);
  const x = c.getContext('2d')!;
  x.fillStyle = '#777';
  x.fillRect(0, 0, 640, 360);
  x.drawImage(img, 140, 0, 360, 360);
  img.close();
  if (dim) {
    x.fillStyle = `rgba(0,0,0,${dim})`;
    x.fillRect(0, 0, 640, 360);
  }
  draw?.(x);
  return c.transferToImageBitmap();
}
