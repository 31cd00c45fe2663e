import { Compositor, extractCrop, type Presentation } from '../filters/anime/compositor';
import { AvatarSmoother } from '../filters/anime/avatar-smoother';
import { CropTracker, type TrackedCrop } from '../filters/anime/crop-tracker';
import { DetectorStride, type FaceFinder } from '../filters/anime/face-detector';
import { runOnPixels, type StyleModel } from '../ml/style-model';

/** The translator's input and output side (the exported model's `arch.size`). */
export const DEFAULT_CROP_SIDE = 128;
/** At most every 6th frame keeps the avatar's expression within 0.2 s of the face at 30 fps. */
export const MAX_TRANSLATE_STRIDE = 6;

export interface AvatarStageMs {
  detect: number;
  track: number;
  translate: number;
  composite: number;
}

/**
 * The anime avatar, frame by frame: face detector (every k-th frame) → crop tracker →
 * translator (the Twin-GAN's human→anime op list on the aligned crop) → avatar smoother →
 * compositor. Owns the
 * model, the detector and its canvases. Without a face it outputs the blurred frame only.
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
  /** Time of each stage in the last frame (detect is 0 on frames the detector skipped). */
  readonly lastMs: AvatarStageMs = { detect: 0, track: 0, translate: 0, composite: 0 };

  constructor(
    readonly model: StyleModel,
    readonly finder: FaceFinder,
    public presentation: Presentation,
    o: { cropSide?: number; budgetMs?: number; now?: () => number } = {},
  ) {
    this.cropSide = o.cropSide ?? DEFAULT_CROP_SIDE;
    this.stride = new DetectorStride(o.budgetMs ?? 1000 / 30);
    this.translateStride = new DetectorStride(o.budgetMs ?? 1000 / 30, MAX_TRANSLATE_STRIDE, 0.5);
    this.now = o.now ?? (() => performance.now());
  }

  private readonly cropSide: number;
  private readonly now: () => number;

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
      await this.translate(frame, crop);
      this.translateStride.record(performance.now() - t);
    }
    const t2 = performance.now();
    this.lastMs.translate = t2 - t;
    if (!crop) {
      this.avatar = null;
      this.source = null;
      this.smoother.reset();
    }
    const out = this.compositor.compose(frame, this.presentation, crop, this.avatar, this.source);
    this.lastMs.composite = performance.now() - t2;
    return out;
  }

  private async translate(frame: ImageBitmap, crop: TrackedCrop): Promise<void> {
    const n = this.cropSide;
    const source = extractCrop(frame, crop, n, this.cropCanvas);
    this.avatar = new ImageData(this.smoother.apply(source.data, await runOnPixels(this.model, source, n, n), n), n, n);
    this.source = source;
  }

  dispose(): void {
    this.model.dispose();
    this.finder.close();
    this.compositor.dispose();
    this.cropCanvas.width = 1;
    this.cropCanvas.height = 1;
  }
}
