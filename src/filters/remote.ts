import type { FromEngine, ToEngine } from '../engine/protocol';
import type { FilterSpec } from '../settings';
import type { Filter } from './filter';
import { uprightBitmap } from '../frames/upright';
import { internalSize } from '../engine/sizes';

/**
 * A filter that runs in the extension's engine (see src/entries/engine-worker.ts) over a
 * session port. Each frame is copied once into an ImageBitmap and back.
 */
export class RemoteFilter implements Filter {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (b: ImageBitmap) => void; reject: (e: Error) => void }>();
  private disposed = false;
  private lastEngineMs = 0;
  /** The engine paints frame n while this side prepares frame n+1 (it queues them in order). */
  readonly concurrency = 2;
  private side = 0;
  private tier: string | null = null;
  /** Set while the engine paints below the frame's size (see FromEngine 'out'). */
  private multiple = 0;
  private readonly canvas = new OffscreenCanvas(2, 2);
  private readonly ctx = this.canvas.getContext('2d', { alpha: false })!;

  private constructor(private readonly port: MessagePort, private engineBackend: string, private readonly frameTimeoutMs: number) {
    port.onmessage = (e: MessageEvent<FromEngine>) => this.onMessage(e.data);
  }

  /**
   * Opens the session and waits for the engine to load the model. Meanwhile the pump sends
   * the last good output or neutral frames, so a slow load (a software GPU compiling its
   * kernels) costs nothing but time; the timeout only catches an engine that never answers.
   */
  static create(port: MessagePort, spec: FilterSpec, o: { loadTimeoutMs?: number; frameTimeoutMs?: number } = {}): Promise<RemoteFilter> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        port.close();
        reject(new Error(`the filter engine did not load '${'id' in spec ? spec.id : spec.kind}' within ${(o.loadTimeoutMs ?? 60000) / 1000} s`));
      }, o.loadTimeoutMs ?? 60000);
      port.onmessage = (e: MessageEvent<FromEngine>) => {
        clearTimeout(timer);
        if (e.data?.t === 'ready') resolve(new RemoteFilter(port, e.data.backend, o.frameTimeoutMs ?? 5000));
        else {
          port.close();
          reject(new Error(e.data?.t === 'error' ? e.data.message : 'unexpected reply from the filter engine'));
        }
      };
      port.postMessage({ t: 'create', spec } satisfies ToEngine);
    });
  }

  /** The engine's backend and the internal resolution it settled on. */
  get backend(): string {
    return this.side ? `${this.engineBackend} @ ${this.side}px${this.tier ? ` ${this.tier}` : ''}` : this.engineBackend;
  }

  /** Engine-side time of the last frame, ms. */
  get engineMs(): number {
    return this.lastEngineMs;
  }

  async process(frame: VideoFrame): Promise<VideoFrame> {
    const timestamp = frame.timestamp;
    const duration = frame.duration;
    const W = frame.displayWidth;
    const H = frame.displayHeight;
    let bitmap: ImageBitmap;
    try {
      if (this.disposed) throw new Error('remote filter used after dispose()');
      // A style paints below the frame's size: send it the picture at the size it paints (the
      // camera frame is scaled once here instead of copied whole both ways).
      const small = this.side && this.multiple ? internalSize(W, H, this.side, this.multiple) : null;
      bitmap = await uprightBitmap(frame, small && (small[0] < W || small[1] < H) ? { resizeWidth: small[0], resizeHeight: small[1], resizeQuality: 'medium' } : {});
    } finally {
      frame.close(); // the camera buffer goes back now, not after the engine's round trip
    }
    const id = this.nextId++;
    const out = await new Promise<ImageBitmap>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`the filter engine did not answer within ${this.frameTimeoutMs} ms`));
      }, this.frameTimeoutMs);
      this.waiting.set(id, {
        resolve: (b) => {
          clearTimeout(timer);
          resolve(b);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.port.postMessage({ t: 'frame', id, bitmap } satisfies ToEngine, [bitmap]);
    });
    try {
      const init = { timestamp, ...(duration != null ? { duration } : {}), alpha: 'discard' as const };
      if (out.width === W && out.height === H) return new VideoFrame(out, init);
      // Back to the frame's size.
      if (this.canvas.width !== W || this.canvas.height !== H) {
        this.canvas.width = W;
        this.canvas.height = H;
      }
      // Magnifying a small picture: bilinear ('low'); 'medium' measured 7.2 ms against 2.7 at 720p.
      this.ctx.imageSmoothingQuality = 'low';
      this.ctx.drawImage(out, 0, 0, W, H);
      return new VideoFrame(this.canvas, init);
    } finally {
      out.close();
    }
  }

  private onMessage(m: FromEngine): void {
    if (m?.t === 'out') {
      this.lastEngineMs = m.ms;
      this.side = m.side;
      this.tier = typeof m.tier === 'string' ? m.tier : null;
      if (typeof m.backend === 'string') this.engineBackend = m.backend;
      this.multiple = typeof m.multiple === 'number' && m.multiple > 0 ? m.multiple : 0;
      const w = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      if (w) w.resolve(m.bitmap);
      else m.bitmap.close();
    } else if (m?.t === 'error' && m.id !== undefined) {
      const w = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      w?.reject(new Error(m.message));
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const w of this.waiting.values()) w.reject(new Error('remote filter disposed'));
    this.waiting.clear();
    this.port.postMessage({ t: 'dispose' } satisfies ToEngine);
    this.port.close();
  }
}
