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
export class FaceFinder {
  private ts = 0;

  private constructor(private readonly detector: FaceDetector) {}

  /** `wasm`: the folder of tasks-vision's wasm files; `model`: the .tflite URL. */
  static async create(o: { wasm: string; model: string; minScore?: number }): Promise<FaceFinder> {
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
    const out: FaceDetection[] = [];
    for (const d of this.detector.detectForVideo(image, this.ts).detections) {
      const b = d.boundingBox;
      const [e0, e1] = d.keypoints;
      if (!b || !e0 || !e1) continue;
      out.push({
        x: b.originX, y: b.originY, width: b.width, height: b.height,
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

  constructor(readonly budgetMs = 1000 / 30, readonly maxStride = 6, readonly share = 0.25) {}

  get stride(): number {
    if (this.ema === null) return 1;
    return Math.min(this.maxStride, Math.max(1, Math.ceil(this.ema / (this.share * this.budgetMs))));
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
