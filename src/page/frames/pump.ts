import { uprightBitmap } from './upright';
import type { Filter, FilterEnv, FilterFactory } from '../filters/filter';
import { own } from '../interception/page-natives';
import { SAVER_FPS, sameFilter, type FilterSpec } from '../../shared/settings';
import { NeutralFrames } from './neutral';

/** What the pump reports about itself, about once a second. Plain data: it crosses threads. */
export interface PumpStatus {
  filter: FilterSpec | null;
  /** 'ok' | 'loading' | 'failed' (fail-closed output) | 'waiting' (no settings yet). */
  state: 'ok' | 'loading' | 'failed' | 'waiting' | 'off';
  backend: string | null;
  framesIn: number;
  framesOut: number;
  /** Frames closed unprocessed because a newer one arrived (newest wins). */
  dropped: number;
  /** Frames written as a fallback (last good output or neutral) instead of filter output. */
  fallbackFrames: number;
  fpsIn: number;
  fpsOut: number;
  /** Median filter time over the last 60 frames, ms. */
  filterMs: number | null;
  /** 95th percentile of the same window. */
  filterMsP95: number | null;
  /**
   * Median time of the same frames inside the filter's engine (filters that paint elsewhere),
   * ms; filterMs less this is the page side: picture in and out, messages, waiting.
   */
  engineMs?: number | null;
  /** Changes of the filter's internal resolution or model tier so far (filters that have levels). */
  levelChanges?: number | null;
  lastError: string | null;
  width: number;
  height: number;
  /** When these counts were read (Date.now(), so that it compares across threads). */
  at?: number;
}

export interface PumpOptions {
  readable: ReadableStream<VideoFrame>;
  writable: WritableStream<VideoFrame>;
  createFilter: FilterFactory;
  env: FilterEnv;
  onStatus?: (s: PumpStatus) => void;
  /** Called with a small thumbnail of the output while previews are requested. */
  onPreview?: (bitmap: ImageBitmap) => void;
  /** How long the last good output is repeated after a failure before neutral frames. */
  holdMs?: number;
  /** How long frames are held back while no filter setting has arrived. */
  settingsTimeoutMs?: number;
  statusIntervalMs?: number;
}

/** Most frames a filter may hold at once (see Filter.concurrency). */
const MAX_CONCURRENCY = 3;

/**
 * Moves frames from a source to a sink through the current filter.
 *
 * - At most `filter.concurrency` frames are in the filter (1 unless it says otherwise; a
 *   filter that paints in another thread takes 2, so this side prepares one frame while the
 *   other is painted) and one waits; a newer frame replaces the waiting one, which is closed
 *   (newest wins). Outputs reach the sink in input order.
 * - Every frame read is closed or handed to the sink exactly once, on every path.
 * - Output keeps the input timestamp; "off" hands the input frame itself to the sink.
 * - Fail closed: while a filter is selected but failing or loading, the sink gets the last
 *   good output (for `holdMs`) and then neutral frames, never the raw camera.
 */
export class FramePump {
  private readonly reader: ReadableStreamDefaultReader<VideoFrame>;
  private readonly writer: WritableStreamDefaultWriter<VideoFrame>;
  private spec: FilterSpec | null = null;
  private filter: Filter | null = null;
  private loading: Promise<void> | null = null;
  /** Every createFilter still on its way, the superseded ones included. */
  private readonly pendingLoads = new Set<Promise<void>>();
  private loadToken = 0;
  private failure: string | null = null;
  /** The current filter's last process() call threw: output is fail-closed. */
  private processFailing = false;
  private pending: VideoFrame | null = null;
  /** Frames inside the filter now (up to its `concurrency`). */
  private readonly inFlight = new Set<Promise<void>>();
  /** Settles when the last frame started so far has been written: outputs keep input order. */
  private writeTail: Promise<void> = Promise.resolve();
  private lastGood: VideoFrame | null = null;
  private lastGoodAt = 0;
  private readonly neutral = new NeutralFrames();
  private stopped = false;
  private readonly startedAt = performance.now();
  private readonly timings: number[] = [];
  private readonly engineTimings: number[] = [];
  private counts = { framesIn: 0, framesOut: 0, dropped: 0, fallbackFrames: 0 };
  /** Timestamp (µs) of the last frame battery saver let through. */
  private lastAcceptedTs = -Infinity;
  private lastStatus = { at: performance.now(), framesIn: 0, framesOut: 0 };
  private fps = { in: 0, out: 0 };
  private size = { width: 0, height: 0 };
  private lastError: string | null = null;
  private previewEveryMs = 0;
  private lastPreviewAt = 0;
  private statusTimer: ReturnType<typeof setInterval> | null = null;
  readonly done: Promise<void>;

  constructor(private readonly opts: PumpOptions) {
    this.reader = opts.readable.getReader();
    this.writer = opts.writable.getWriter();
    if (opts.onStatus) {
      this.statusTimer = setInterval(() => this.emitStatus(), opts.statusIntervalMs ?? 1000);
    }
    this.done = this.readLoop();
  }

  /** Selects the filter. Frames keep flowing through the old one until the new one is ready. */
  setFilter(spec: FilterSpec): void {
    if (this.stopped) return;
    if (this.spec && sameFilter(this.spec, spec) && !this.failure) return;
    this.spec = spec;
    this.failure = null;
    this.processFailing = false;
    const token = ++this.loadToken;
    if (spec.kind === 'off') {
      this.replaceFilter(null);
      this.loading = null;
      return;
    }
    this.loading = this.opts.createFilter(spec, this.opts.env).then(
      (f) => {
        if (token !== this.loadToken || this.stopped) {
          f.dispose();
          return;
        }
        this.replaceFilter(f);
        this.loading = null;
      },
      (e: unknown) => {
        if (token !== this.loadToken) return;
        this.replaceFilter(null);
        this.loading = null;
        this.failure = errorText(e);
        this.lastError = this.failure;
      },
    );
    const load = this.loading;
    this.pendingLoads.add(load);
    void load.finally(() => this.pendingLoads.delete(load));
  }

  /** Asks for a thumbnail of the output every `everyMs` (0 stops). */
  setPreview(everyMs: number): void {
    this.previewEveryMs = Math.max(0, everyMs);
  }

  status(): PumpStatus {
    const t = [...this.timings].sort((a, b) => a - b);
    const e = [...this.engineTimings].sort((a, b) => a - b);
    const spec = this.spec;
    let state: PumpStatus['state'] = 'ok';
    if (!spec) state = 'waiting';
    else if (spec.kind === 'off') state = 'off';
    else if (this.failure || this.processFailing) state = 'failed';
    // A new filter on its way is 'loading' even while the previous one still paints the frames.
    else if (this.loading) state = 'loading';
    return {
      filter: spec,
      state,
      backend: this.filter?.backend ?? null,
      ...this.counts,
      fpsIn: this.fps.in,
      fpsOut: this.fps.out,
      filterMs: t.length ? t[Math.floor(t.length / 2)]! : null,
      filterMsP95: t.length ? t[Math.min(t.length - 1, Math.floor(t.length * 0.95))]! : null,
      engineMs: e.length ? e[Math.floor(e.length / 2)]! : null,
      levelChanges: this.filter?.levelChanges ?? null,
      lastError: this.lastError,
      width: this.size.width,
      height: this.size.height,
      at: Date.now(),
    };
  }

  /** Stops reading, closes every frame it holds, closes the sink and frees the filter. */
  async stop(): Promise<void> {
    if (this.stopped) return this.done;
    this.stopped = true;
    this.loadToken++;
    if (this.statusTimer) clearInterval(this.statusTimer);
    await this.reader.cancel().catch(() => {});
    await this.done;
  }

  private replaceFilter(f: Filter | null): void {
    const old = this.filter;
    this.filter = f;
    if (old) {
      // A frame may be inside the old filter right now: free it once that frame is done.
      const busy = [...this.inFlight];
      if (busy.length) void Promise.allSettled(busy).then(() => old.dispose());
      else old.dispose();
    }
  }

  private async readLoop(): Promise<void> {
    try {
      for (;;) {
        const { value, done } = await this.reader.read();
        if (done || !value) break;
        if (this.stopped) {
          value.close();
          break;
        }
        this.counts.framesIn++;
        const spec = this.spec;
        if (spec && spec.kind !== 'off' && own(spec, 'saver') === true) { // own(): see sameFilter
          // Battery saver: at most SAVER_FPS frames a second reach the filter (and the call).
          if (value.timestamp - this.lastAcceptedTs < 1e6 / SAVER_FPS - 5000 && value.timestamp >= this.lastAcceptedTs) {
            value.close();
            this.counts.dropped++;
            continue;
          }
          this.lastAcceptedTs = value.timestamp;
        }
        if (this.pending) {
          this.pending.close();
          this.counts.dropped++;
        }
        this.pending = value;
        this.kick();
      }
    } catch (e) {
      if (!this.stopped) this.lastError = `camera stream: ${errorText(e)}`;
    } finally {
      this.stopped = true;
      if (this.statusTimer) clearInterval(this.statusTimer);
      this.pending?.close();
      this.pending = null;
      while (this.inFlight.size) await Promise.allSettled([...this.inFlight]);
      // A filter still loading is freed when it arrives; wait for that, so that whoever ends
      // this thread afterwards (the pipeline terminates its worker) does not strand it in the
      // engine.
      await Promise.all([...this.pendingLoads]);
      this.replaceFilter(null);
      this.lastGood?.close();
      this.lastGood = null;
      this.neutral.dispose();
      await this.writer.close().catch(() => {});
      this.emitStatus();
    }
  }

  private kick(): void {
    const limit = Math.max(1, Math.min(MAX_CONCURRENCY, Math.floor(this.filter?.concurrency ?? 1)));
    while (this.pending && this.inFlight.size < limit) {
      const frame = this.pending;
      this.pending = null;
      const job: Promise<void> = this.handle(frame).finally(() => {
        this.inFlight.delete(job);
        if (!this.stopped) this.kick();
      });
      this.inFlight.add(job);
    }
  }

  private async handle(input: VideoFrame): Promise<void> {
    // This frame's turn at the sink comes after every frame taken before it.
    const before = this.writeTail;
    let written!: () => void;
    this.writeTail = new Promise<void>((r) => (written = r));
    try {
      const out = await this.produce(input);
      await before;
      if (out) await this.write(out);
    } finally {
      written();
    }
  }

  /** The output for one input frame (filtered, passed through or a fallback), or null. */
  private async produce(input: VideoFrame): Promise<VideoFrame | null> {
    // `frame` is ours until handed on (to the sink, or to the filter, which closes it).
    let frame: VideoFrame | null = input;
    const like = { timestamp: input.timestamp, width: input.displayWidth, height: input.displayHeight };
    let out: VideoFrame | null = null;
    try {
      this.size = { width: like.width, height: like.height };
      const spec = this.spec;
      if (!spec) {
        // No settings yet: never guess "off". Hold frames briefly, then send neutral ones.
        if (performance.now() - this.startedAt > (this.opts.settingsTimeoutMs ?? 2000)) {
          out = this.fallback(like, frame);
        }
      } else if (spec.kind === 'off') {
        out = frame;
        frame = null;
      } else if (this.filter && !this.failure) {
        const filter = this.filter;
        const t0 = performance.now();
        const taken = frame;
        frame = null;
        try {
          out = await filter.process(taken);
          this.processFailing = false;
          this.timings.push(performance.now() - t0);
          if (this.timings.length > 60) this.timings.shift();
          if (typeof filter.engineMs === 'number') {
            this.engineTimings.push(filter.engineMs);
            if (this.engineTimings.length > 60) this.engineTimings.shift();
          }
          this.lastGood?.close();
          this.lastGood = out.clone();
          this.lastGoodAt = performance.now();
        } catch (e) {
          this.lastError = `${spec.kind} filter: ${errorText(e)}`;
          this.processFailing = true;
          out = this.fallback(like, null);
        }
      } else {
        out = this.fallback(like, frame);
      }
    } catch (e) {
      this.lastError = errorText(e);
      out?.close();
      out = null;
    } finally {
      frame?.close();
    }
    return out;
  }

  private async write(out: VideoFrame): Promise<void> {
    this.maybePreview(out);
    try {
      await this.writer.write(out);
      this.counts.framesOut++;
    } catch (e) {
      try {
        out.close();
      } catch {
        /* the sink may already have closed it */
      }
      if (!this.stopped) {
        this.lastError = `sink: ${errorText(e)}`;
        void this.stop();
      }
    }
  }

  /**
   * Last good output (re-stamped) for a while, then a neutral frame made from the last good
   * output, or from the camera frame when there never was one. Never the input itself.
   */
  private fallback(like: { timestamp: number; width: number; height: number }, frame: VideoFrame | null): VideoFrame {
    this.counts.fallbackFrames++;
    const good = this.lastGood;
    const sameSize = good && good.displayWidth === like.width && good.displayHeight === like.height;
    const holdMs = this.opts.holdMs ?? 1000;
    if (good && sameSize && performance.now() - this.lastGoodAt < holdMs) {
      return new VideoFrame(good, { timestamp: like.timestamp, alpha: 'discard' });
    }
    return this.neutral.make(like, good && sameSize ? good : frame);
  }

  private maybePreview(out: VideoFrame): void {
    const cb = this.opts.onPreview;
    if (!cb || this.previewEveryMs <= 0) return;
    const now = performance.now();
    if (now - this.lastPreviewAt < this.previewEveryMs) return;
    this.lastPreviewAt = now;
    const w = 192;
    const h = Math.max(1, Math.round((w * out.displayHeight) / Math.max(1, out.displayWidth)));
    const copy = out.clone();
    uprightBitmap(copy, { resizeWidth: w, resizeHeight: h, resizeQuality: 'low' })
      .then(cb, () => {})
      .finally(() => copy.close());
  }

  private emitStatus(): void {
    const now = performance.now();
    const dt = (now - this.lastStatus.at) / 1000;
    if (dt > 0.2) {
      this.fps = {
        in: (this.counts.framesIn - this.lastStatus.framesIn) / dt,
        out: (this.counts.framesOut - this.lastStatus.framesOut) / dt,
      };
      this.lastStatus = { at: now, framesIn: this.counts.framesIn, framesOut: this.counts.framesOut };
    }
    this.opts.onStatus?.(this.status());
  }
}

export function errorText(e: unknown): string {
  if (e instanceof Error) return `${e.name === 'Error' ? '' : e.name + ': '}${e.message}`;
  return String(e);
}
