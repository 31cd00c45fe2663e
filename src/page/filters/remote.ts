import type { FromEngine, ToEngine } from '../../shared/engine-protocol';
import type { FilterSpec } from '../../shared/settings';
import type { Filter } from './filter';
import { uprightBitmap } from '../frames/upright';
import { internalSize } from '../../shared/sizes';
import { composeFaceSwap, FrameBlur, type FacePlace } from '../../shared/face-swap';
import { applyGuided, DEFAULT_FIT, guidedCoefficients, guideLuma, STROKES_FIT, type GuidedCoefficients } from './guided';

/** A 2D canvas whose pixels are read back often (kept on the CPU). */
const readableCanvas = (): OffscreenCanvasRenderingContext2D =>
  new OffscreenCanvas(2, 2).getContext('2d', { alpha: false, willReadFrequently: true })!;

/** `source` drawn at w×h on `ctx`'s canvas (sized to it) and read back as RGBA bytes. */
function readPixels(ctx: OffscreenCanvasRenderingContext2D, source: CanvasImageSource, w: number, h: number): Uint8ClampedArray {
  const c = ctx.canvas;
  if (c.width !== w || c.height !== h) {
    c.width = w;
    c.height = h;
  }
  ctx.drawImage(source, 0, 0, w, h);
  return ctx.getImageData(0, 0, w, h).data;
}

/** A camera frame's interval at 30 fps, ms. */
const FRAME_MS = 1000 / 30;

/**
 * Guided refresh (styles): the engine paints whenever it is free, and every frame is drawn here
 * from the newest painting's guided coefficients on the frame's own luminance (./guided.ts). So
 * the engine may take up to REFRESH_FRAMES camera frames a painting (its governor's budget, less
 * a fifth for the page side) and the output still has every frame, sharp at the camera's size.
 * Three: the tiny tier at 320 px (47 ms a painting on one WASM thread here) fits, and drawing a
 * frame with a painting two frames old cost 0.001 of SSIM and feature distance on d0 (udnie).
 */
export const REFRESH_FRAMES = 3;

/**
 * The oldest painting (by camera time) whose coefficients a frame is drawn with at once; older,
 * the frame waits for the painting under way (then the engine's pace sets the frame rate): a
 * refresh's three frames and its painting time. Colours that lag further behind a moving head
 * show as fringes.
 */
export const MAX_LAG_MS = 200;

/**
 * The page's own share of a frame interval for guided drawing (read the frame, its luminance, the
 * guided colours over every pixel). Past it (a large camera frame on a slow CPU, or Firefox, where
 * this runs on the page's main thread) each frame is drawn at half its size per side, a quarter
 * of the work, and magnified to the frame's size on the canvas; the painting itself is at a
 * quarter of the frame's size or less, so the strokes stay, the camera's finest edges soften.
 */
export const PAGE_SHARE = 0.6;
/** Back at full size when its estimated cost (4× the half size's) is under this share. */
export const PAGE_SHARE_BACK = 0.4;

/** The scale (1 or 2) the next frame is drawn at, from the smoothed page ms at the current one. */
export function guideScale(scale: number, pageMs: number | null, frameMs: number): number {
  if (pageMs === null || !(frameMs > 0)) return scale;
  if (scale === 1) return pageMs > PAGE_SHARE * frameMs ? 2 : 1;
  return pageMs * scale * scale < PAGE_SHARE_BACK * frameMs ? 1 : scale;
}

/**
 * The full avatar's frames go to the engine at most this long a side, and its pictures come back
 * magnified to the frame's size. Nothing in them is finer than that: the portrait is a 128-px
 * translation drawn at the frame's height, the backdrop the frame blurred 32× (or a flat colour or
 * a painted scene). At 1280×720 the engine receives, composites and sends back a quarter of the
 * pixels. Face swap keeps the frame's size (around the face it is the camera's picture).
 */
export const FULL_AVATAR_MAX_SIDE = 640;

/**
 * Face swap: the page pastes the engine's avatar into its own camera frame (src/shared/face-swap.ts)
 * and sends the engine a copy at most this long a side, for the detector (it sees 128×128 anyway),
 * the face lock and the 128-px crop (a face at 640×360 is already larger than the crop). What comes
 * back is the feathered avatar and its place, not a whole frame.
 */
export const FACE_SWAP_MAX_SIDE = 640;

/** An engine's answer: its picture, the level it painted at, and (face swap pasted here) where it goes. */
interface Answer {
  bitmap: ImageBitmap;
  level: string;
  strokes: boolean;
  paste?: FacePlace | null;
}

/**
 * A filter that runs in the extension's engine (see src/engine/painters.ts) over a
 * session port. Each frame is copied once into an ImageBitmap and back.
 */
export class RemoteFilter implements Filter {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (b: Answer) => void; reject: (e: Error) => void }>();
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
  /** Guided refresh: the newest painting's coefficients, its level and its camera time (µs). */
  private coef: { c: GuidedCoefficients; level: string; at: number } | null = null;
  private coefFade: { c: GuidedCoefficients; left: number } | null = null;
  /** The painting under way (guided refresh), and whether a frame is being prepared for it. */
  private inflight: Promise<void> | null = null;
  private sending: Promise<unknown> | null = null;
  /** Why the last painting failed: the next frame fails with it (fail closed). */
  private failure: Error | null = null;
  /** Where the frame, the picture sent and the painting are read back (CPU canvases). */
  private readonly fullCtx = readableCanvas();
  private readonly guideCtx = readableCanvas();
  private readonly paintedCtx = readableCanvas();
  /** Guided refresh's per-frame buffers: the guide's luminance and the output's pixels. */
  private luma = new Float32Array(0);
  private outPixels = new Uint8ClampedArray(0);
  /** Guided drawing's scale (1: the frame's size, 2: half per side, magnified) and its smoothed ms. */
  private drawScale = 1;
  private pageMs: number | null = null;
  private readonly smallCanvas = new OffscreenCanvas(2, 2);
  private readonly smallCtx = this.smallCanvas.getContext('2d', { alpha: false })!;

  /** The scale guided frames are drawn at now (1: the frame's size; 2: half per side, magnified). */
  get guideScale(): number {
    return this.drawScale;
  }

  private constructor(private readonly port: MessagePort, private engineBackend: string, private readonly frameTimeoutMs: number, private readonly guided: boolean,
    /** Frames larger than this a side go to the engine scaled down (0: as they are), see FULL_AVATAR_MAX_SIDE. */
    private readonly maxSide = 0,
    /** Face swap: the avatar is pasted here (FACE_SWAP_MAX_SIDE). */
    private readonly paste = false) {
    port.onmessage = (e: MessageEvent<FromEngine>) => this.onMessage(e.data);
  }

  /**
   * Opens the session and waits for the engine to load the model. Meanwhile the pump sends
   * the last good output or neutral frames, so a slow load (a software GPU compiling its
   * kernels) costs nothing but time; the timeout only catches an engine that never answers.
   */
  static create(port: MessagePort, spec: FilterSpec, o: { loadTimeoutMs?: number; frameTimeoutMs?: number; guided?: boolean } = {}): Promise<RemoteFilter> {
    // Styles paint below the frame's size: guided refresh, unless asked otherwise.
    const guided = o.guided ?? spec.kind === 'style';
    const paste = spec.kind === 'anime' && spec.presentation === 'face-swap';
    const maxSide = spec.kind === 'anime' && spec.presentation === 'full-avatar' ? FULL_AVATAR_MAX_SIDE : 0;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        port.close();
        reject(new Error(`the filter engine did not load '${'id' in spec ? spec.id : spec.kind}' within ${(o.loadTimeoutMs ?? 60000) / 1000} s`));
      }, o.loadTimeoutMs ?? 60000);
      port.onmessage = (e: MessageEvent<FromEngine>) => {
        clearTimeout(timer);
        if (e.data?.t === 'ready') resolve(new RemoteFilter(port, e.data.backend, o.frameTimeoutMs ?? 5000, guided, maxSide, paste));
        else {
          port.close();
          reject(new Error(e.data?.t === 'error' ? e.data.message : 'unexpected reply from the filter engine'));
        }
      };
      port.postMessage({ t: 'create', spec, ...(guided ? { budgetMs: 0.8 * REFRESH_FRAMES * FRAME_MS } : {}), ...(paste ? { paste } : {}) } satisfies ToEngine);
    });
  }

  /** How often the engine's level (internal size or model tier) changed in this session. */
  get levelChanges(): number {
    return this.changes;
  }

  /** The engine's backend and the internal resolution it settled on. */
  get backend(): string {
    const drawn = this.drawScale > 1 ? `, drawn at 1/${this.drawScale}` : '';
    return this.side ? `${this.engineBackend} @ ${this.side}px${this.tier ? ` ${this.tier}` : ''}${drawn}` : this.engineBackend;
  }

  /** Engine-side time of the last frame, ms. */
  get engineMs(): number {
    return this.lastEngineMs;
  }

  async process(frame: VideoFrame): Promise<VideoFrame> {
    // Guided refresh once the engine has said at what size it paints (its first answer).
    if (this.guided && this.side && this.multiple) return this.processGuided(frame);
    if (this.paste) return this.processPasted(frame);
    const { timestamp, duration, W, H } = facts(frame);
    let bitmap: ImageBitmap;
    try {
      if (this.disposed) throw new Error('remote filter used after dispose()');
      // A style paints below the frame's size: send it the picture at the size it paints (the
      // camera frame is scaled once here instead of copied whole both ways).
      const small = this.side && this.multiple ? internalSize(W, H, this.side, this.multiple)
        : this.maxSide && Math.max(W, H) > this.maxSide ? internalSize(W, H, this.maxSide, 2) : null;
      bitmap = await uprightBitmap(frame, small && (small[0] < W || small[1] < H) ? { resizeWidth: small[0], resizeHeight: small[1], resizeQuality: 'medium' } : {});
    } finally {
      frame.close(); // the camera buffer goes back now, not after the engine's round trip
    }
    const { bitmap: out, level } = await this.request(bitmap);
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

  /**
   * Face swap pasted here: the engine gets a copy of the frame at most FACE_SWAP_MAX_SIDE a side and
   * answers with the feathered avatar and its place; this side draws its own full-size frame with
   * the avatar on it, or blurred when the engine found no face (composeFaceSwap). An answer without
   * a place fails the frame (fail closed: it is not what was asked for).
   */
  private async processPasted(frame: VideoFrame): Promise<VideoFrame> {
    const { timestamp, duration, W, H } = facts(frame);
    let full: ImageBitmap;
    let sent: ImageBitmap;
    try {
      if (this.disposed) throw new Error('remote filter used after dispose()');
      full = await uprightBitmap(frame);
    } finally {
      frame.close();
    }
    try {
      const [w, h] = Math.max(W, H) > FACE_SWAP_MAX_SIDE ? internalSize(W, H, FACE_SWAP_MAX_SIDE, 2) : [W, H];
      sent = await createImageBitmap(full, w < W || h < H ? { resizeWidth: w, resizeHeight: h, resizeQuality: 'medium' } : {});
      const { bitmap: out, paste } = await this.request(sent);
      try {
        if (paste === undefined) throw new Error('the filter engine answered a whole frame to a face swap pasted on the page');
        composeFaceSwap(this.canvas, this.layer, this.blur, full, W, H, paste ? out : null, paste, W / w);
      } finally {
        out.close();
      }
      return new VideoFrame(this.canvas, { timestamp, ...(duration != null ? { duration } : {}), alpha: 'discard' });
    } finally {
      full.close();
    }
  }

  private readonly layer = new OffscreenCanvas(2, 2);
  private readonly blur = new FrameBlur();

  /** Resolves once no painting is under way (guided refresh); never rejects. */
  async idle(): Promise<void> {
    while (this.sending || this.inflight) {
      await this.sending?.catch(() => {});
      await this.inflight;
    }
  }

  /** Sends `bitmap` (transferred) to the engine; resolves with its painting. */
  private request(bitmap: ImageBitmap): Promise<Answer> {
    const id = this.nextId++;
    return new Promise<Answer>((resolve, reject) => {
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
  }

  /**
   * Guided refresh: the frame is drawn from the newest painting's coefficients and its own
   * luminance; when the engine is free it also gets this frame (at the size it paints) for the
   * next painting. A frame waits only when there is no painting recent enough (the first, or
   * the engine fell more than MAX_LAG_MS behind); a failed painting fails the next frame.
   */
  private async processGuided(frame: VideoFrame): Promise<VideoFrame> {
    const { timestamp, duration, W, H } = facts(frame);
    let camera: Uint8ClampedArray;
    let small: ImageBitmap | null = null;
    const k = this.drawScale;
    const dw = Math.ceil(W / k);
    const dh = Math.ceil(H / k);
    let pageMs = 0;
    try {
      if (this.disposed) throw new Error('remote filter used after dispose()');
      this.throwFailure();
      const t0 = performance.now();
      camera = readPixels(this.fullCtx, frame, dw, dh); // drawImage honours rotation and flip
      pageMs += performance.now() - t0;
      if (!this.inflight && !this.sending) {
        const [w, h] = internalSize(W, H, this.side, this.multiple);
        const making = uprightBitmap(frame, w < W || h < H ? { resizeWidth: w, resizeHeight: h, resizeQuality: 'medium' } : {});
        this.sending = making;
        try {
          small = await making;
        } finally {
          this.sending = null;
        }
      }
    } finally {
      frame.close();
    }
    if (small) this.refresh(small, timestamp);
    const fresh = (): boolean => this.coef !== null && (timestamp - this.coef.at) / 1000 <= MAX_LAG_MS;
    if (!fresh()) {
      // a frame being prepared for the engine (a concurrent call) becomes the painting under way
      if (this.sending) await this.sending.catch(() => {});
      if (this.inflight) await this.inflight;
    }
    this.throwFailure();
    // After the wait, the newest painting there is (the engine's pace then sets the frame rate).
    if (!this.coef) throw new Error('the filter engine has not painted a frame yet');
    const t1 = performance.now();
    // Both kept from frame to frame (3.7 MB each at 1280×720): the VideoFrame copies `out`.
    if (this.outPixels.length !== dw * dh * 4) this.outPixels = new Uint8ClampedArray(dw * dh * 4);
    const out = this.outPixels;
    if (this.luma.length < dw * dh) this.luma = new Float32Array(dw * dh);
    const luma = guideLuma(camera, dw, dh, this.luma);
    applyGuided(this.coef.c, luma, dw, dh, out);
    if (this.coefFade) {
      applyGuided(this.coefFade.c, luma, dw, dh, out, this.coefFade.left / (RemoteFilter.FADE_FRAMES + 1));
      if (--this.coefFade.left <= 0) this.coefFade = null;
    }
    const init = { timestamp, ...(duration != null ? { duration } : {}) };
    let result: VideoFrame;
    if (k === 1) {
      result = new VideoFrame(out, { format: 'RGBX', codedWidth: W, codedHeight: H, ...init });
    } else {
      // Magnified to the frame's size on the canvas (bilinear, as the unguided path does).
      if (this.smallCanvas.width !== dw || this.smallCanvas.height !== dh) {
        this.smallCanvas.width = dw;
        this.smallCanvas.height = dh;
      }
      this.smallCtx.putImageData(new ImageData(out as Uint8ClampedArray<ArrayBuffer>, dw, dh), 0, 0);
      if (this.canvas.width !== W || this.canvas.height !== H) {
        this.canvas.width = W;
        this.canvas.height = H;
      }
      this.ctx.imageSmoothingQuality = 'low';
      this.ctx.drawImage(this.smallCanvas, 0, 0, W, H);
      result = new VideoFrame(this.canvas, { ...init, alpha: 'discard' });
    }
    pageMs += performance.now() - t1;
    this.pageMs = this.pageMs === null ? pageMs : 0.9 * this.pageMs + 0.1 * pageMs;
    const next = guideScale(k, this.pageMs, duration ? duration / 1000 : FRAME_MS);
    if (next !== k) {
      // the smoothed cost follows the new size (a quarter, or four times, the work)
      this.pageMs *= (k / next) ** 2;
      this.drawScale = next;
      this.changes++;
    }
    return result;
  }

  /** A painting failed since the last frame: this frame fails with its error (once). */
  private throwFailure(): void {
    const f = this.failure;
    this.failure = null;
    if (f) throw f;
  }

  /** Sends `small` (camera time `at`) to be painted; its coefficients replace the current ones. */
  private refresh(small: ImageBitmap, at: number): void {
    const w = small.width;
    const h = small.height;
    const guide = readPixels(this.guideCtx, small, w, h);
    this.inflight = this.request(small).then(({ bitmap, level, strokes }) => {
      try {
        const pw = bitmap.width;
        const ph = bitmap.height;
        const paint = readPixels(this.paintedCtx, bitmap, pw, ph);
        // Painted at another size than sent (the engine changed level meanwhile): the guide follows.
        const g = pw !== w || ph !== h ? readPixels(this.paintedCtx, this.guideCtx.canvas, pw, ph) : guide;
        const c = guidedCoefficients(paint, g, pw, ph, strokes ? STROKES_FIT : DEFAULT_FIT);
        if (this.coef && this.coef.level !== level) {
          this.changes++;
          this.coefFade = { c: this.coef.c, left: RemoteFilter.FADE_FRAMES };
        }
        if (!this.coef || at >= this.coef.at) this.coef = { c, level, at };
      } finally {
        bitmap.close();
      }
    }).catch((e: unknown) => {
      this.failure = e instanceof Error ? e : new Error(String(e));
    }).finally(() => {
      this.inflight = null;
    });
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
      if (m.paste !== undefined && m.paste !== null && !validPlace(m.paste)) {
        // fail closed: a place that cannot be drawn is no frame
        m.bitmap.close();
        w?.reject(new Error(`the filter engine answered an invalid place for the avatar: ${JSON.stringify(m.paste)}`));
        return;
      }
      const paste = m.paste;
      if (w) w.resolve({ bitmap: m.bitmap, level: m.multiple ? `${m.side}/${m.tier ?? ''}` : '', strokes: m.strokes === true, ...(paste !== undefined ? { paste } : {}) });
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
    this.blur.dispose();
    this.port.postMessage({ t: 'dispose' } satisfies ToEngine);
    this.port.close();
  }
}

/** What a frame's output keeps of it: its time and displayed size. */
function facts(f: VideoFrame): { timestamp: number; duration: number | null; W: number; H: number } {
  return { timestamp: f.timestamp, duration: f.duration, W: f.displayWidth, H: f.displayHeight };
}

/** A place with finite numbers, a positive size and an alpha in [0, 1]. */
function validPlace(p: unknown): p is FacePlace {
  const q = p as FacePlace | null | undefined;
  return !!q && [q.cx, q.cy, q.size, q.roll, q.alpha].every(Number.isFinite) && q.size > 0 && q.alpha >= 0 && q.alpha <= 1;
}
