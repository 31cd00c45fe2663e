import { FaceDetector } from '@mediapipe/tasks-vision';
import { TfBlazeFace } from './blazeface';
import type { FaceDetection } from './crop-tracker';

/** Where the shipped detector model lives under the extension's root. */
export const FACE_MODEL_PATH = 'models/face/blaze_face_short_range.tflite';

/**
 * Frames wider than this are downscaled before detection: BlazeFace short range sees a 128×128
 * input anyway, and handing tasks-vision a 1280×720 bitmap costs about 6 ms more a run than a
 * 640×360 one (bench/anime-stages.test.ts).
 */
export const DETECT_MAX_WIDTH = 640;

/** Which runtime runs BlazeFace: tasks-vision (needs WebGL to read images) or tfjs. */
export type DetectorEngine = 'mediapipe' | 'tfjs';

interface Detects {
  detect(image: ImageBitmap): FaceDetection[];
  close(): void;
}

/** Whether this context has a WebGL context to give (tasks-vision reads every image through one). */
export function hasWebGl(): boolean {
  if (typeof OffscreenCanvas !== 'function') return false;
  const c = new OffscreenCanvas(1, 1);
  return !!(c.getContext('webgl2') ?? c.getContext('webgl'));
}

/**
 * BlazeFace short range, everything loaded from the extension itself (the engine passes
 * `<root>mediapipe` for tasks-vision's wasm fileset and `<root>` + {@link FACE_MODEL_PATH}).
 * Where there is WebGL it runs through @mediapipe/tasks-vision on the CPU (XNNPACK); where there
 * is none (Firefox without a usable GL driver, e.g. headless on a bare server) tasks-vision
 * cannot read an image, and the same model file runs on tfjs instead (src/engine/avatar/blazeface.ts,
 * the WASM backend there), with the same pre- and post-processing. The caller decides how often
 * (see {@link DetectorStride}).
 */
export class FaceFinder {
  private constructor(private readonly impl: Detects, readonly engine: DetectorEngine) {}

  /** What the popup's technical status calls this detector. */
  get label(): string {
    return this.engine === 'mediapipe' ? 'mediapipe' : 'blazeface-tfjs';
  }

  /**
   * `wasm`: the folder of tasks-vision's wasm files; `model`: the .tflite URL; `engine`: 'auto'
   * (tasks-vision where there is WebGL, else tfjs) or one of them.
   */
  static async create(o: { wasm: string; model: string; minScore?: number; engine?: DetectorEngine | 'auto' }): Promise<FaceFinder> {
    const engine = o.engine && o.engine !== 'auto' ? o.engine : hasWebGl() ? 'mediapipe' : 'tfjs';
    if (engine === 'tfjs') return new FaceFinder(await TfBlazeFace.load(o.model, o.minScore ?? 0.5), 'tfjs');
    return new FaceFinder(await MediaPipeFaces.create(o), 'mediapipe');
  }

  /**
   * The shipped detector under the extension's `root`; when it cannot start, `release` frees what
   * the caller made before it, and the error says it was the face detector.
   */
  static async shipped(root: string, release: () => void): Promise<FaceFinder> {
    try {
      return await FaceFinder.create({ wasm: `${root}mediapipe`, model: `${root}${FACE_MODEL_PATH}` });
    } catch (e) {
      release();
      throw new Error(`face detector: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
  }

  /** The faces in `image`, in its pixels; eyes are BlazeFace's first two keypoints. */
  detect(image: ImageBitmap): FaceDetection[] {
    return this.impl.detect(image);
  }

  close(): void {
    this.impl.close();
  }
}

/** BlazeFace through tasks-vision's FaceDetector (VIDEO mode). */
class MediaPipeFaces implements Detects {
  private ts = 0;
  private small: OffscreenCanvas | null = null;

  private constructor(private readonly detector: FaceDetector) {}

  static async create(o: { wasm: string; model: string; minScore?: number }): Promise<MediaPipeFaces> {
    // tasks-vision uploads every image through WebGL, even with the CPU delegate: say so plainly
    // where there is none instead of the library's "GLctx is undefined".
    if (typeof OffscreenCanvas === 'function' && !hasWebGl()) {
      throw new Error('face detection through MediaPipe needs WebGL (it reads every image through it) and this browser offers none here');
    }
    // The SIMD build by name: the extension ships only it (every browser it supports has SIMD).
    const fileset = { wasmLoaderPath: `${o.wasm}/vision_wasm_internal.js`, wasmBinaryPath: `${o.wasm}/vision_wasm_internal.wasm` };
    const detector = await FaceDetector.createFromOptions(fileset, {
      baseOptions: { modelAssetPath: o.model, delegate: 'CPU' },
      runningMode: 'VIDEO',
      minDetectionConfidence: o.minScore ?? 0.5,
    });
    return new MediaPipeFaces(detector);
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
