import type { FilterEnv, FilterFactory } from './filters/filter';
import { FramePump, type PumpStatus } from './frames/pump';
import { createSink, createSource, type NativeFrameApis } from './frames/source-sink';
import type { FilterSpec } from '../shared/settings';
import type { FromWorker, ToWorker } from './worker-messages';
import { natives } from './interception/page-natives';

export type Placement = 'starting' | 'worker' | 'main-thread';

export interface PipelineStatus extends PumpStatus {
  placement: Placement;
  frames: 'native' | 'polyfill';
}

/** Constructors captured at document_start, before page scripts could replace them. */
export interface WorkerIntrinsics {
  Worker: typeof Worker;
  Blob: typeof Blob;
  createObjectURL: (b: Blob) => string;
  revokeObjectURL: (u: string) => void;
}

export interface PipelineOptions {
  apis: NativeFrameApis;
  /** Source of the filter worker (a classic script), or null to run on the main thread. */
  workerSource: string | null;
  intrinsics: WorkerIntrinsics | null;
  createFilter: FilterFactory;
  env: FilterEnv;
  forcePolyfill?: boolean;
  /** Opens a session with the extension's filter engine (neural filters). */
  openEngine?: () => Promise<MessagePort>;
  /** How long the worker may take to say it is alive before the main thread takes over. */
  workerTimeoutMs?: number;
  onStatus?: (s: PipelineStatus) => void;
  onPreview?: (b: ImageBitmap) => void;
}

/**
 * One camera track → one processed track. The filter runs in a dedicated worker when the
 * page allows one, otherwise on the main thread; callers see the same API either way.
 * `track` exists as soon as the constructor returns.
 */
export class Pipeline {
  readonly track: MediaStreamTrack;
  readonly frames: 'native' | 'polyfill';
  placement: Placement = 'starting';
  private spec: FilterSpec | null = null;
  private previewEveryMs = 0;
  private worker: Worker | null = null;
  private pump: FramePump | null = null;
  private disposed = false;
  private lastStatus: PipelineStatus | null = null;
  private readonly sink: ReturnType<typeof createSink>;
  readonly ready: Promise<void>;
  private resolveStopped!: () => void;
  /** Resolves when the frame loop has ended and every frame has been released. */
  readonly stopped = new Promise<void>((r) => (this.resolveStopped = r));

  constructor(readonly camera: MediaStreamTrack, private readonly o: PipelineOptions) {
    this.sink = createSink({ apis: o.apis, forcePolyfill: o.forcePolyfill });
    this.track = this.sink.track;
    this.frames = !o.forcePolyfill && o.apis.Processor && this.sink.kind === 'native' ? 'native' : 'polyfill';
    this.ready = this.start();
  }

  setFilter(spec: FilterSpec): void {
    this.spec = spec;
    if (this.worker) this.post({ type: 'filter', filter: spec });
    this.pump?.setFilter(spec);
  }

  /** Thumbnails of the output every `everyMs` through `onPreview` (0 stops). */
  setPreview(everyMs: number): void {
    this.previewEveryMs = everyMs;
    if (this.worker) this.post({ type: 'preview', everyMs });
    this.pump?.setPreview(everyMs);
  }

  status(): PipelineStatus {
    if (this.pump) return this.withPlacement(this.pump.status());
    if (this.lastStatus) return this.lastStatus;
    const s = this.camera.getSettings();
    return this.withPlacement({
      filter: this.spec, state: this.spec ? (this.spec.kind === 'off' ? 'off' : 'loading') : 'waiting', backend: null,
      framesIn: 0, framesOut: 0, dropped: 0, fallbackFrames: 0, fpsIn: 0, fpsOut: 0, filterMs: null, filterMsP95: null,
      lastError: null, width: s.width ?? 0, height: s.height ?? 0,
    });
  }

  /** Ends the frame loop and frees the filter. Does not stop the camera (the owner does). */
  async dispose(): Promise<void> {
    if (this.disposed) return this.stopped;
    this.disposed = true;
    this.timerWorker?.terminate();
    this.timerWorker = null;
    await this.ready;
    if (this.worker) this.post({ type: 'stop' });
    else if (this.pump) await this.pump.stop();
    else this.resolveStopped();
    return this.stopped;
  }

  private withPlacement(s: PumpStatus): PipelineStatus {
    return { ...s, placement: this.placement, frames: this.frames };
  }

  private async start(): Promise<void> {
    // Streams of polyfilled sources live on the main thread; only native ones move to a worker.
    const worker = this.frames === 'native' ? await this.tryWorker() : null;
    if (this.disposed) {
      worker?.terminate();
      await this.sink.writable.close().catch(() => {});
      this.resolveStopped();
      return;
    }
    // The source is made only now, when its reader is about to start: an unread processor
    // queues camera frames, and those hold capture buffers that every track of the camera
    // shares (a few per camera; with them all held the camera stops for everyone).
    const source = createSource(this.camera, {
      apis: this.o.apis,
      forcePolyfill: this.o.forcePolyfill,
      frameRate: this.camera.getSettings().frameRate ?? 30,
      tick: (cb, ms) => this.tick(cb, ms),
    });
    if (worker) {
      this.worker = worker;
      this.placement = 'worker';
      // Captured natives: a page must not be handed the filter worker (see page-natives.ts).
      natives.onWorkerMessage(worker, (d) => this.onWorkerMessage(d as FromWorker));
      this.post(
        { type: 'start', readable: source.readable, writable: this.sink.writable, assetBase: this.o.env.assetBase, filter: this.spec },
        [source.readable as unknown as Transferable, this.sink.writable as unknown as Transferable],
      );
      if (this.previewEveryMs) this.post({ type: 'preview', everyMs: this.previewEveryMs });
      return;
    }
    this.placement = 'main-thread';
    this.pump = new FramePump({
      readable: source.readable,
      writable: this.sink.writable,
      createFilter: this.o.createFilter,
      env: { ...this.o.env, openEngine: this.o.openEngine },
      onStatus: (s) => {
        this.lastStatus = this.withPlacement(s);
        this.o.onStatus?.(this.lastStatus);
      },
      onPreview: this.o.onPreview,
    });
    if (this.spec) this.pump.setFilter(this.spec);
    this.pump.setPreview(this.previewEveryMs);
    void this.pump.done.then(() => this.resolveStopped());
  }

  private onWorkerMessage(msg: FromWorker): void {
    if (msg.type === 'status') {
      this.lastStatus = this.withPlacement(msg.status);
      this.o.onStatus?.(this.lastStatus);
    } else if (msg.type === 'preview') {
      if (this.o.onPreview) this.o.onPreview(msg.bitmap);
      else msg.bitmap.close();
    } else if (msg.type === 'engine-port?') {
      const reply = (port: MessagePort | null, error: string | null): void =>
        this.post({ type: 'engine-port', id: msg.id, port, error }, port ? [port] : []);
      const open = this.o.openEngine;
      if (!open) reply(null, 'no filter engine in this context');
      else {
        // await, not .then(): a page's Promise.prototype.then must not get the reply function.
        void (async () => {
          let port: MessagePort;
          try {
            port = await open();
          } catch (e) {
            reply(null, e instanceof Error ? e.message : String(e));
            return;
          }
          reply(port, null);
        })();
      }
    } else if (msg.type === 'stopped') {
      if (this.worker) natives.terminate(this.worker);
      this.worker = null;
      this.resolveStopped();
    }
  }

  private timerWorker: Worker | null | undefined;

  /**
   * A timer for the polyfill's hidden-tab frame clock. Timers of hidden pages are throttled
   * (to once a second, then once a minute); a worker's are not, so use one when allowed.
   */
  private tick(cb: () => void, ms: number): () => void {
    if (this.timerWorker === undefined) {
      this.timerWorker = null;
      const i = this.o.intrinsics;
      if (i) {
        try {
          const url = i.createObjectURL(new i.Blob(['onmessage=(e)=>setTimeout(()=>postMessage(e.data),e.data.ms)'], { type: 'text/javascript' }));
          this.timerWorker = new i.Worker(url, { name: 'brushcam-clock' });
          i.revokeObjectURL(url);
          this.timerWorker.onerror = (e) => {
            e.preventDefault();
            this.timerWorker?.terminate();
            this.timerWorker = null;
          };
        } catch {
          this.timerWorker = null;
        }
      }
    }
    const w = this.timerWorker;
    if (!w || this.disposed) {
      const id = setTimeout(cb, ms);
      return () => clearTimeout(id);
    }
    const id = ++this.tickId;
    let live = true;
    const onMessage = (e: MessageEvent<{ id: number }>): void => {
      if (e.data?.id !== id) return;
      w.removeEventListener('message', onMessage);
      if (live) cb();
    };
    w.addEventListener('message', onMessage);
    w.postMessage({ id, ms });
    return () => {
      live = false;
      w.removeEventListener('message', onMessage);
    };
  }

  private tickId = 0;

  private post(msg: ToWorker, transfer: Transferable[] = []): void {
    if (this.worker) natives.postToWorker(this.worker, msg, transfer);
  }

  /** A blob worker, or null when the page's CSP (or anything else) forbids it. */
  private tryWorker(): Promise<Worker | null> {
    const i = this.o.intrinsics;
    const src = this.o.workerSource;
    if (!i || !src) return Promise.resolve(null);
    let url: string;
    let w: Worker;
    try {
      url = i.createObjectURL(new i.Blob([src], { type: 'text/javascript' }));
      w = new i.Worker(url, { name: 'brushcam-filter' });
    } catch {
      return Promise.resolve(null);
    }
    return new Promise<Worker | null>((resolve) => {
      const done = (ok: boolean): void => {
        clearTimeout(timer);
        natives.onWorkerMessage(w, null);
        natives.onWorkerError(w, null);
        i.revokeObjectURL(url);
        if (!ok) natives.terminate(w);
        resolve(ok ? w : null);
      };
      const timer = setTimeout(() => done(false), this.o.workerTimeoutMs ?? 3000);
      natives.onWorkerMessage(w, (d) => done((d as FromWorker | null)?.type === 'ready'));
      natives.onWorkerError(w, (e) => {
        e.preventDefault();
        done(false);
      });
    });
  }
}
