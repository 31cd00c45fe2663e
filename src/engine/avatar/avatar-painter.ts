import { Compositor, DEFAULT_BACKDROP, extractCrop, type Backdrop, type Presentation } from './compositor';
import { AvatarSmoother } from './avatar-smoother';
import { CropTracker, type TrackedCrop } from './crop-tracker';
import { DetectorStride, type FaceFinder } from './face-detector';
import { runOnPixels, type PaintNet } from '../ml/paint-net';

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

export interface AvatarStageMs {
  detect: number;
  track: number;
  translate: number;
  composite: number;
}

/**
 * The anime avatar, frame by frame: face detector (every k-th frame) → crop tracker →
 * translator (the Twin-GAN's human→anime op list on the aligned crop) → avatar smoother →
 * compositor. Owns the model, the detector and its canvases. Without a face it outputs the
 * blurred frame only.
 */
export class AvatarPainter {
  private readonly compositor = new Compositor();
  /** Blends each new avatar with the last where the face did not change (translator flicker). */
  readonly smoother = new AvatarSmoother();
  private readonly cropCanvas = new OffscreenCanvas(1, 1);
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
    o: { cropSide?: number; budgetMs?: number; now?: () => number; backdrop?: Backdrop } = {},
  ) {
    this.backdrop = o.backdrop ?? DEFAULT_BACKDROP;
    this.sides = o.cropSide ? [o.cropSide] : TRANSLATE_SIDES;
    this.budgetMs = o.budgetMs ?? 1000 / 30;
    this.stride = new DetectorStride(this.budgetMs);
    this.translateStride = new DetectorStride(this.budgetMs, MAX_TRANSLATE_STRIDE, TRANSLATE_SHARE);
    this.now = o.now ?? (() => performance.now());
  }

  private readonly sides: readonly number[];
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

  /** The governor's state for the popup: detector stride, translator stride, translator side. */
  get tier(): string {
    return `det${this.stride.stride}-tr${this.translateStride.stride}${this.sideIndex ? `-s${this.cropSide}` : ''}`;
  }

  async paint(frame: ImageBitmap): Promise<ImageBitmap> {
    const W = frame.width;
    const H = frame.height;
    if (!this.tracker || this.tracker.frameWidth !== W || this.tracker.frameHeight !== H) {
      this.tracker = new CropTracker(W, H);
      this.smoother.reset();
    }
    let t = performance.now();
    let faces = null;
    if (this.stride.due()) {
      faces = this.finder.detect(frame);
      this.stride.record(performance.now() - t);
    }
    const t1 = performance.now();
    this.lastMs.detect = faces ? t1 - t : 0;
    const crop = this.tracker.update(faces, this.now());
    t = performance.now();
    this.lastMs.track = t - t1;
    // Translate the current crop while the face is tracked; while holding or fading, keep the
    // last avatar (the crop may no longer contain a face).
    if (crop && (!this.avatar || (crop.state === 'tracking' && this.translateStride.due()))) {
      // a skipped translation says nothing of the network's cost: the governor hears only real runs
      if (await this.translate(frame, crop)) this.translateStride.record(performance.now() - t);
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
    }
    const out = this.compositor.compose(frame, this.presentation, crop, this.avatar, this.source, this.backdrop);
    this.lastMs.composite = performance.now() - t2;
    // The translator's share of the budget is what the other stages leave (at 1280×720 the
    // compositor alone takes about half of it on a laptop CPU).
    const fixed = this.lastMs.detect + this.lastMs.track + this.lastMs.composite;
    this.fixedMs = this.fixedMs === null ? fixed : 0.9 * this.fixedMs + 0.1 * fixed;
    this.translateStride.share = Math.min(TRANSLATE_SHARE, Math.max(TRANSLATE_SHARE_MIN, BUDGET_USE - this.fixedMs / this.budgetMs));
    return out;
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
    this.avatar = new ImageData(this.smoother.apply(source.data, await runOnPixels(this.model, source, n, n), n), n, n);
    this.source = source;
    return true;
  }

  dispose(): void {
    this.model.dispose();
    this.finder.close();
    this.compositor.dispose();
    this.cropCanvas.width = 1;
    this.cropCanvas.height = 1;
  }
}
