import { FaceDetector, FilesetResolver } from '@mediapipe/tasks-vision';
import type { FaceDetection } from './crop-tracker';

/** Where the shipped detector model lives under the extension's root. */
export const FACE_MODEL_PATH = 'models/face/blaze_face_short_range.tflite';

/**
 * BlazeFace short range through @mediapipe/tasks-vision, everything loaded from the extension
 * itself (the engine passes `<root>mediapipe` for the wasm fileset and `<root>` + {@link FACE_MODEL_PATH}).
 * Runs on the CPU (XNNPACK), the same everywhere; the caller decides how often (see
 * {@link DetectorStride}).
 */
/**
 * Frames wider than this are downscaled before detection: BlazeFace short range sees a 128×128
 * input anyway, and handing tasks-vision a 1280×720 bitmap costs about 6 ms more a run than a
 * 640×360 one (bench/anime-stages.test.ts).
 */
export const DETECT_MAX_WIDTH = 640;

export class FaceFinder {
  private ts = 0;
  private small: OffscreenCanvas | null = null;

  private constructor(private readonly detector: FaceDetector) {}

  /** `wasm`: the folder of tasks-vision's wasm files; `model`: the .tflite URL. */
  static async create(o: { wasm: string; model: string; minScore?: number }): Promise<FaceFinder> {
    // tasks-vision uploads every image through WebGL, even with the CPU delegate: say so plainly
    // where there is none (Firefox without a usable GL driver, e.g. headless on a bare server).
    if (typeof OffscreenCanvas === 'function') {
      const c = new OffscreenCanvas(1, 1);
      if (!c.getContext('webgl2') && !c.getContext('webgl')) {
        throw new Error('face detection needs WebGL (MediaPipe reads every image through it) and this browser offers none here');
      }
    }
    const fileset = await FilesetResolver.forVisionTasks(o.wasm);
    const detector = await FaceDetector.createFromOptions(fileset, {
      baseOptions: { modelAssetPath: o.model, delegate: 'CPU' },
      runningMode: 'VIDEO',
      minDetectionConfidence: o.minScore ?? 0.5,
    });
    return new FaceFinder(detector);
  }

  /** The faces in `image`, in its pixels; eyes are BlazeFace's first two keypoints. */
  detect(image: ImageBitmap): FaceDetection[] {
    // VIDEO mode wants strictly increasing timestamps; frames here are already in order.
    this.ts += 1;
    const W = image.width;
    const H = image.height;
    let input = image;
    if (W > DETECT_MAX_WIDTH) {
      const w = DETECT_MAX_WIDTH;
      const h = Math.max(1, Math.round((H * w) / W));
      this.small ??= new OffscreenCanvas(w, h);
      if (this.small.width !== w || this.small.height !== h) {
        this.small.width = w;
        this.small.height = h;
      }
      const x = this.small.getContext('2d')!;
      x.imageSmoothingEnabled = true;
      x.imageSmoothingQuality = 'low';
      x.drawImage(image, 0, 0, w, h);
      input = this.small.transferToImageBitmap();
    }
    // boxes come in the input's pixels, keypoints normalised
    const k = W / input.width;
    const out: FaceDetection[] = [];
    let found;
    try {
      found = this.detector.detectForVideo(input, this.ts).detections;
    } finally {
      if (input !== image) input.close();
    }
    for (const d of found) {
      const b = d.boundingBox;
      const [e0, e1] = d.keypoints;
      if (!b || !e0 || !e1) continue;
      out.push({
        x: b.originX * k, y: b.originY * k, width: b.width * k, height: b.height * k,
        score: d.categories[0]?.score ?? 0,
        eyes: [{ x: e0.x * W, y: e0.y * H }, { x: e1.x * W, y: e1.y * H }],
      });
    }
    return out;
  }

  close(): void {
    this.detector.close();
  }
}

/**
 * How often the detector runs: every k-th frame, k chosen so that detection costs about a
 * quarter of the frame budget on average (the tracker holds the crop in between).
 */
export class DetectorStride {
  private ema: number | null = null;
  private n = 0;
  private samples = 0;

  /** `share`: the fraction of the frame budget runs may cost on average (settable: see AvatarPainter). */
  constructor(readonly budgetMs = 1000 / 30, readonly maxStride = 6, public share = 0.25) {}

  get stride(): number {
    if (this.ema === null) return 1;
    return Math.min(this.maxStride, Math.max(1, Math.ceil(this.ema / (this.share * this.budgetMs))));
  }

  /** Smoothed time of one run (ms), null before the first counted one. */
  get cost(): number | null {
    return this.ema;
  }

  /** Scales the smoothed cost (the work per run changed by this factor, e.g. a smaller input). */
  rescale(k: number): void {
    if (this.ema !== null) this.ema *= k;
  }

  /** Whether the detector should run on the next frame. */
  due(): boolean {
    return this.n++ % this.stride === 0;
  }

  /** Records one detection's time; the first (the detector's warm-up) is not counted. */
  record(ms: number): void {
    if (this.samples++ === 0) return;
    this.ema = this.ema === null ? ms : 0.8 * this.ema + 0.2 * ms;
  }
}
