import { Compositor, DEFAULT_BACKDROP, extractCrop, type Backdrop, type Presentation } from './compositor';
import { AvatarSmoother } from './avatar-smoother';
import { CropTracker, type TrackedCrop } from './crop-tracker';
import { DetectorStride, type FaceFinder } from './face-detector';
import { FaceLock, type CropReader, type LockReference } from './face-lock';
import type { Translator } from './translator';
import type { FacePlace } from '../../shared/face-swap';
import { runOnPixels, type PaintNet } from '../ml/paint-net';
import { WARMUP_BUDGET_MS } from '../stylizer';

/** At most every 6th frame keeps the avatar's expression within 0.2 s of the face at 30 fps. */
export const MAX_TRANSLATE_STRIDE = 6;
/**
 * The translator's internal resolution, the governor's lever after the stride: when one
 * translation costs more than the stride can spread (its share of the budget at the largest
 * stride), the crop is translated at the next smaller side (the network is fully convolutional;
 * the avatar comes out softer) and back up when the larger side would fit at a stride below the
 * largest (hysteresis: one stride step of room).
 */
export const TRANSLATE_SIDES = [128, 96] as const; // 128: the exported model's arch.size
const TRANSLATE_SHARE = 0.5;
/** Tracked frames over which the pipelined translator's stride is counted (one second at 30 fps). */
const PIPE_WINDOW = 30;
/** The translator gets what the detector and compositor leave of 0.9 × the budget, within these. */
const TRANSLATE_SHARE_MIN = 0.2;
const BUDGET_USE = 0.9;

/** Index into `sides` the translator should use, from the smoothed cost of one translation at `sides[i]`. */
export function translatorSide(sides: readonly number[], i: number, costMs: number | null, budgetMs: number,
  maxStride = MAX_TRANSLATE_STRIDE, share = TRANSLATE_SHARE): number {
  if (costMs === null) return i;
  const strideFor = (ms: number): number => ms / (share * budgetMs);
  if (strideFor(costMs) > maxStride && i < sides.length - 1) return i + 1;
  if (i > 0) {
    const bigger = costMs * (sides[i - 1]! / sides[i]!) ** 2;
    if (strideFor(bigger) <= maxStride - 1) return i - 1;
  }
  return i;
}

/**
 * The largest stride at which the full translator's drawing, held between its runs, stays closer
 * to what it would draw of every frame than its cheaper tier's drawing of every frame
 * (training/brushcam_anime/cadence.py on the people clips). Past it the tier runs. Set it from that
 * measure for each tier that ships: the one tried (anime_tiny) lost to the full translator held for
 * six frames, so no avatar ships a tier (training/brushcam_anime/README.md).
 */
export const FULL_TRANSLATOR_MAX_STRIDE = 1;
/** Back to the full translator only when it would fit at 1.25× its estimated cost (no flip-flop). */
const TIER_RETURN_MARGIN = 1.25;
/**
 * Timed translations per network at warm-up (after one untimed): the least is its cost. Fewer
 * once they add up to WARMUP_BUDGET_MS (a device that takes a second a translation).
 */
const TRANSLATOR_TIMED_RUNS = 3;

/**
 * Whether the cheaper translator should run, from the smoothed cost of the one running now
 * (`costMs`), the tier's cost over the full translator's (`ratio`, measured at warm-up) and the
 * translator's share of the frame budget: the full translator while its stride would be at most
 * `maxStride`, else the tier.
 */
export function useTranslatorTier(onTier: boolean, costMs: number | null, ratio: number, shareMs: number,
  maxStride = FULL_TRANSLATOR_MAX_STRIDE): boolean {
  if (costMs === null || !(ratio > 0) || !(shareMs > 0)) return onTier;
  const full = onTier ? costMs / ratio : costMs;
  const strideOf = (ms: number): number => Math.ceil(ms / shareMs);
  return onTier ? strideOf(TIER_RETURN_MARGIN * full) > maxStride : strideOf(full) > maxStride;
}

export interface AvatarStageMs {
  detect: number;
  track: number;
  translate: number;
  composite: number;
}

/**
 * The anime avatar, frame by frame: face detector (every k-th frame) → crop tracker → face lock
 * (sub-pixel registration of the face, where the avatar is pasted and translated) → translator (the Twin-GAN's human→anime op list on the aligned crop) → avatar smoother →
 * compositor. Owns the model, the detector and its canvases. Without a face it outputs the
 * blurred frame only.
 */
export class AvatarPainter {
  private readonly compositor = new Compositor();
  /** Blends each new avatar with the last where the face did not change (translator flicker). */
  readonly smoother = new AvatarSmoother();
  /** Pastes the shown avatar where the face is, below the detector's jitter (sub-pixel registration). */
  readonly lock = new FaceLock();
  private readonly cropCanvas = new OffscreenCanvas(1, 1);
  private readonly lockCanvas = new OffscreenCanvas(1, 1);
  /** Where the shown avatar was last pasted (kept while the tracker holds or fades its crop). */
  private box: TrackedCrop | null = null;
  private tracker: CropTracker | null = null;
  private avatar: ImageData | null = null;
  private source: ImageData | null = null;
  readonly stride: DetectorStride;
  /**
   * How often the translator runs (every k-th tracked frame, k ≤ {@link MAX_TRANSLATE_STRIDE}):
   * at most about half the frame budget on average; in between, the last avatar follows the
   * tracked crop (and the smoother blends each new one in).
   */
  readonly translateStride: DetectorStride;
  /** Translations skipped because the face had not changed beyond the camera's noise. */
  held = 0;
  /** Time of each stage in the last frame (detect is 0 on frames the detector skipped). */
  readonly lastMs: AvatarStageMs = { detect: 0, track: 0, translate: 0, composite: 0 };

  constructor(
    readonly model: PaintNet,
    readonly finder: FaceFinder,
    public presentation: Presentation,
    o: { cropSide?: number; budgetMs?: number; now?: () => number; backdrop?: Backdrop; tier?: { name: string; model: PaintNet }; translator?: Translator; paste?: boolean } = {},
  ) {
    this.paste = o.paste === true;
    this.translatorTier = o.tier ?? null;
    this.pipe = o.translator ?? null;
    this.backdrop = o.backdrop ?? DEFAULT_BACKDROP;
    this.sides = o.cropSide ? [o.cropSide] : TRANSLATE_SIDES;
    this.budgetMs = o.budgetMs ?? 1000 / 30;
    this.stride = new DetectorStride(this.budgetMs);
    this.translateStride = new DetectorStride(this.budgetMs, MAX_TRANSLATE_STRIDE, TRANSLATE_SHARE);
    this.now = o.now ?? (() => performance.now());
  }

  private readonly sides: readonly number[];
  /** Face swap for a page that pastes the avatar itself: paint() answers the feathered avatar, `place` where it goes. */
  private readonly paste: boolean;
  /** Where the last painted avatar goes (face swap pasted by the page); null: nowhere; undefined: paint() gave a whole frame. */
  place: FacePlace | null | undefined = undefined;
  /**
   * Pipelined mode: the translator in a worker of its own (./translator.ts). A crop is sent as soon
   * as the last one came back and the frames go on meanwhile with the avatar there is; each
   * translation is shown from the first frame after it arrives, registered against its own crop.
   * So translations run as often as one takes, on a core of their own, not every k-th frame.
   */
  private pipe: Translator | null;
  private pending: Promise<void> | null = null;
  private done: { source: ImageData; out: Uint8ClampedArray; ref: LockReference; n: number } | null = null;
  /** Bumped when the face, the frame size or the side changes: translations sent before are dropped. */
  private generation = 0;
  private pipeFailure: Error | null = null;
  /** Smoothed round trip of one pipelined translation, ms. */
  private pipeMs: number | null = null;
  /** Per tracked frame of the last PIPE_WINDOW: whether a translation started (or the smoother held). */
  private readonly fresh: boolean[] = [];
  /** Translations the pipelined translator finished and the painter showed. */
  pipelined = 0;
  /** The translator's cheaper tier (a distilled, narrower network), when the avatar ships one. */
  readonly translatorTier: { name: string; model: PaintNet } | null;
  /** Whether the tier translates now (the full translator cannot run often enough). */
  onTier = false;
  /** The tier's cost over the full translator's: the network ratio until warm-up measures it. */
  tierRatio = 0.3;
  /** The full avatar's backdrop. */
  backdrop: Backdrop;
  private sideIndex = 0;
  private readonly budgetMs: number;
  private readonly now: () => number;
  /** Smoothed per-frame ms of the detector (0 on skipped frames), tracker and compositor. */
  private fixedMs: number | null = null;

  /** The side the translator runs at now. */
  get cropSide(): number {
    return this.sides[this.sideIndex]!;
  }

  /** No face tracked in the last frame (the popup says it is looking for one). */
  private faceless = true;
  /** The governor's state for the popup: detector stride, translator stride, translator side. */
  get tier(): string {
    return `det${this.stride.stride}-tr${this.pipe ? this.pipeStride : this.translateStride.stride}${this.onTier ? `-${this.translatorTier!.name}` : ''}${this.sideIndex ? `-s${this.cropSide}` : ''}${this.faceless ? ' no-face' : ''}`;
  }

  /** Whether translations run in the translator's own worker now (false after it failed). */
  get pipelinedNow(): boolean {
    return this.pipe !== null;
  }

  /** Pipelined: tracked frames per translation started (or held) over the last PIPE_WINDOW, rounded. */
  private get pipeStride(): number {
    const started = this.fresh.filter(Boolean).length;
    return started ? Math.max(1, Math.round(this.fresh.length / started)) : MAX_TRANSLATE_STRIDE;
  }

  /**
   * Times the translator (and its tier) on a blank crop, the least of a few runs each after one
   * untimed: compiles their kernels before the call, and places the tier by its measured cost.
   * Returns the ms of each.
   */
  async timeTranslators(): Promise<{ full: number; tier: number | null }> {
    const n = this.sides[0]!;
    const blank = new ImageData(n, n);
    const least = async (m: PaintNet): Promise<number> => {
      await runOnPixels(m, blank, n, n);
      let best = Infinity;
      let spent = 0;
      for (let i = 0; i < TRANSLATOR_TIMED_RUNS && spent < WARMUP_BUDGET_MS; i++) {
        const t = performance.now();
        await runOnPixels(m, blank, n, n);
        const ms = performance.now() - t;
        best = Math.min(best, ms);
        spent += ms;
      }
      return best;
    };
    const full = await least(this.model);
    const tier = this.translatorTier ? await least(this.translatorTier.model) : null;
    if (tier !== null) this.tierRatio = Math.min(1, tier / Math.max(full, 1e-3));
    return { full, tier };
  }

  async paint(frame: ImageBitmap): Promise<ImageBitmap> {
    const W = frame.width;
    const H = frame.height;
    if (this.pipeFailure) {
      // The worker failed: translations run here from now on; this frame fails (nothing is lost:
      // the page holds its last output) so the failure is heard once.
      const e = this.pipeFailure;
      this.pipeFailure = null;
      this.pipe?.dispose();
      this.pipe = null;
      this.generation++;
      throw new Error(`${e.message}; the avatar translates in the engine from now on`, { cause: e });
    }
    if (!this.tracker || this.tracker.frameWidth !== W || this.tracker.frameHeight !== H) {
      this.tracker = new CropTracker(W, H);
      this.smoother.reset();
      this.lock.reset();
      this.generation++;
      this.done = null;
    }
    let t = performance.now();
    let faces = null;
    if (this.stride.due()) {
      faces = this.finder.detect(frame);
      this.stride.record(performance.now() - t);
    }
    const t1 = performance.now();
    this.lastMs.detect = faces ? t1 - t : 0;
    const tracked = this.tracker.update(faces, this.now());
    const read: CropReader = (box, side) => extractCrop(frame, box, side, this.lockCanvas).data;
    // A pipelined translation that came back since the last frame is shown from this one.
    if (tracked) this.adopt();
    // While the face is tracked the avatar follows the face lock's box; while the tracker holds
    // or fades its last crop, the last box is kept.
    let crop: TrackedCrop | null = null;
    if (tracked) {
      crop = tracked.state === 'tracking' || !this.box ? { ...tracked, ...this.lock.follow(read, tracked) } : { ...this.box, alpha: tracked.alpha, state: tracked.state };
    }
    this.box = crop;
    this.faceless = !crop;
    t = performance.now();
    this.lastMs.track = t - t1;
    // Translate the current crop while the face is tracked; while holding or fading, keep the
    // last avatar (the crop may no longer contain a face).
    if (crop && this.pipe) {
      const start = crop.state === 'tracking' && !this.pending;
      if (crop.state === 'tracking') {
        this.fresh.push(start);
        if (this.fresh.length > PIPE_WINDOW) this.fresh.shift();
      }
      if (start || (!this.avatar && !this.pending)) this.send(frame, crop, read);
      if (!this.avatar && this.pending) {
        // nothing to show yet: the first avatar is waited for
        await this.pending;
        this.adopt();
      }
    } else if (crop && (!this.avatar || (crop.state === 'tracking' && this.translateStride.due()))) {
      // a skipped translation says nothing of the network's cost: the governor hears only real runs
      if (await this.translate(frame, crop)) this.translateStride.record(performance.now() - t);
      this.lock.setReference(read, crop);
      if (this.translatorTier && this.sideIndex === 0) {
        const tier = useTranslatorTier(this.onTier, this.translateStride.cost, this.tierRatio, this.translateStride.share * this.budgetMs);
        if (tier !== this.onTier) {
          this.translateStride.rescale(tier ? this.tierRatio : 1 / this.tierRatio);
          this.onTier = tier;
        }
      }
      const next = translatorSide(this.sides, this.sideIndex, this.translateStride.cost, this.budgetMs, MAX_TRANSLATE_STRIDE, this.translateStride.share);
      if (next !== this.sideIndex) {
        this.translateStride.rescale((this.sides[next]! / this.cropSide) ** 2);
        this.sideIndex = next;
      }
    }
    const t2 = performance.now();
    this.lastMs.translate = t2 - t;
    if (!crop) {
      this.avatar = null;
      this.source = null;
      this.smoother.reset();
      this.lock.reset();
      this.generation++;
      this.done = null;
    }
    let out: ImageBitmap;
    if (this.paste && this.presentation === 'face-swap') {
      // The page pastes it: the feathered avatar and its place, or nothing (the page blurs the frame).
      const alpha = crop && this.avatar ? crop.alpha : 0;
      this.place = crop && this.avatar && alpha > 0 ? { cx: crop.cx, cy: crop.cy, size: crop.size, roll: crop.roll, alpha } : null;
      out = this.place ? this.compositor.facePatch(this.avatar!, this.source) : await createImageBitmap(new ImageData(1, 1));
    } else {
      this.place = undefined;
      out = this.compositor.compose(frame, this.presentation, crop, this.avatar, this.source, this.backdrop);
    }
    this.lastMs.composite = performance.now() - t2;
    // The translator's share of the budget is what the other stages leave (at 1280×720 the
    // compositor alone takes about half of it on a laptop CPU).
    const fixed = this.lastMs.detect + this.lastMs.track + this.lastMs.composite;
    this.fixedMs = this.fixedMs === null ? fixed : 0.9 * this.fixedMs + 0.1 * fixed;
    this.translateStride.share = Math.min(TRANSLATE_SHARE, Math.max(TRANSLATE_SHARE_MIN, BUDGET_USE - this.fixedMs / this.budgetMs));
    return out;
  }

  /**
   * Pipelined: sends the crop at `crop` to the translator's worker (unless the smoother would hold
   * the shown avatar); its answer waits in `done` for the next frame.
   */
  private send(frame: ImageBitmap, crop: TrackedCrop, read: CropReader): void {
    const pipe = this.pipe!;
    const n = this.cropSide;
    const source = extractCrop(frame, crop, n, this.cropCanvas);
    if (this.avatar && this.avatar.width === n && this.smoother.holds(source.data, n)) {
      this.source = source;
      this.held++;
      this.lock.setReference(read, crop);
      return;
    }
    const ref = this.lock.reference(read, crop);
    const generation = this.generation;
    const t = performance.now();
    this.pending = pipe.run(source).then((out) => {
      const ms = performance.now() - t;
      this.pipeMs = this.pipeMs === null ? ms : 0.8 * this.pipeMs + 0.2 * ms;
      if (generation === this.generation) this.done = { source, out, ref, n };
    }, (e: unknown) => {
      if (pipe === this.pipe) this.pipeFailure = e instanceof Error ? e : new Error(String(e));
    }).finally(() => {
      this.pending = null;
    });
    // the side follows the round trip: a core of its own, so all of the budget per stride
    const next = translatorSide(this.sides, this.sideIndex, this.pipeMs, this.budgetMs, MAX_TRANSLATE_STRIDE, 1);
    if (next !== this.sideIndex) {
      this.pipeMs = this.pipeMs! * (this.sides[next]! / this.cropSide) ** 2;
      this.sideIndex = next;
      this.generation++;
    }
  }

  /** Pipelined: shows the translation that came back (blended by the smoother, locked to its crop). */
  private adopt(): void {
    const d = this.done;
    this.done = null;
    if (!d || d.n !== this.cropSide) return;
    this.avatar = new ImageData(this.smoother.apply(d.source.data, d.out, d.n), d.n, d.n);
    this.source = d.source;
    this.lock.use(d.ref);
    this.pipelined++;
  }

  /** Translates the crop; false when the smoother held the shown avatar and the network did not run. */
  private async translate(frame: ImageBitmap, crop: TrackedCrop): Promise<boolean> {
    const n = this.cropSide;
    const source = extractCrop(frame, crop, n, this.cropCanvas);
    // A still face: the smoother would keep the shown avatar whatever the translator said.
    if (this.avatar && this.avatar.width === n && this.smoother.holds(source.data, n)) {
      this.source = source;
      this.held++;
      return false;
    }
    const model = this.onTier ? this.translatorTier!.model : this.model;
    this.avatar = new ImageData(this.smoother.apply(source.data, await runOnPixels(model, source, n, n), n), n, n);
    this.source = source;
    return true;
  }

  dispose(): void {
    this.pipe?.dispose();
    this.pipe = null;
    this.generation++;
    this.model.dispose();
    this.translatorTier?.model.dispose();
    this.finder.close();
    this.compositor.dispose();
    for (const c of [this.cropCanvas, this.lockCanvas]) {
      c.width = 1;
      c.height = 1;
    }
  }
}
