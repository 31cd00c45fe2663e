import type { FromEngine, ToEngine } from '../../shared/engine-protocol';
import type { FilterSpec } from '../../shared/settings';
import type { Filter } from './filter';
import { uprightBitmap } from '../frames/upright';
import { internalSize } from '../../shared/sizes';

/**
 * A filter that runs in the extension's engine (see src/engine/painters.ts) over a
 * session port. Each frame is copied once into an ImageBitmap and back.
 */
export class RemoteFilter implements Filter {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (b: { bitmap: ImageBitmap; level: string }) => void; reject: (e: Error) => void }>();
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
  /** The last picture from the engine and the level (internal size, tier) it was painted at. */
  private last: { bitmap: ImageBitmap; level: string } | null = null;
  /** While fading from the previous level's picture into the new level's. */
  private fade: { from: ImageBitmap; left: number } | null = null;
  private changes = 0;

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

  /** How often the engine's level (internal size or model tier) changed in this session. */
  get levelChanges(): number {
    return this.changes;
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
    const { bitmap: out, level } = await new Promise<{ bitmap: ImageBitmap; level: string }>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`the filter engine did not answer within ${this.frameTimeoutMs} ms`));
      }, this.frameTimeoutMs);
      this.waiting.set(id, {
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.port.postMessage({ t: 'frame', id, bitmap } satisfies ToEngine, [bitmap]);
    });
    // A change of level (size or tier) is a jump in sharpness: the previous level's last
    // picture fades out over the next FADE_FRAMES frames instead.
    if (this.last && this.last.level !== level) {
      this.changes++;
      this.fade?.from.close();
      this.fade = { from: this.last.bitmap, left: RemoteFilter.FADE_FRAMES };
    } else {
      this.last?.bitmap.close();
    }
    this.last = { bitmap: out, level };
    const init = { timestamp, ...(duration != null ? { duration } : {}), alpha: 'discard' as const };
    if (out.width === W && out.height === H && !this.fade) return new VideoFrame(out, init);
    // Back to the frame's size.
    if (this.canvas.width !== W || this.canvas.height !== H) {
      this.canvas.width = W;
      this.canvas.height = H;
    }
    // Magnifying a small picture: bilinear ('low'); 'medium' measured 7.2 ms against 2.7 at 720p.
    this.ctx.imageSmoothingQuality = 'low';
    this.ctx.drawImage(out, 0, 0, W, H);
    if (this.fade) {
      this.ctx.globalAlpha = this.fade.left / (RemoteFilter.FADE_FRAMES + 1);
      this.ctx.drawImage(this.fade.from, 0, 0, W, H);
      this.ctx.globalAlpha = 1;
      if (--this.fade.left <= 0) {
        this.fade.from.close();
        this.fade = null;
      }
    }
    return new VideoFrame(this.canvas, init);
  }

  /** Frames over which a change of level cross-fades (about 0.2 s at 30 fps). */
  static readonly FADE_FRAMES = 6;

  private onMessage(m: FromEngine): void {
    if (m?.t === 'out') {
      this.lastEngineMs = m.ms;
      this.side = m.side;
      this.tier = typeof m.tier === 'string' ? m.tier : null;
      if (typeof m.backend === 'string') this.engineBackend = m.backend;
      this.multiple = typeof m.multiple === 'number' && m.multiple > 0 ? m.multiple : 0;
      const w = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      // Levels are a style's internal size and model tier (the avatar's strides change what is
      // computed when, not how sharp the picture is).
      if (w) w.resolve({ bitmap: m.bitmap, level: m.multiple ? `${m.side}/${m.tier ?? ''}` : '' });
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
    this.last?.bitmap.close();
    this.fade?.from.close();
    this.last = this.fade = null;
    this.port.postMessage({ t: 'dispose' } satisfies ToEngine);
    this.port.close();
  }
}
