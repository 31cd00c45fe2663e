/**
 * Face tracking for the puppet, MediaPipe's way: BlazeFace finds a face when none is tracked;
 * from then on the face mesh runs on a square region of interest (ROI) made from the previous
 * frame's landmarks, turned upright by the face's roll, until its face score drops. The iris
 * model runs on a crop around each eye. Everything returned is in frame pixels; no pixel of the
 * frame leaves this module.
 */
import { extractCrop } from '../avatar/compositor';
import type { CropBox, Point } from '../avatar/alignment';
import type { FaceDetection } from '../avatar/crop-tracker';
import { FaceMesh, IRIS_SIDE, MESH_POINTS, MESH_SIDE } from './face-mesh';

/** The ROI's side, in the landmarks' extent (MediaPipe's face landmark ROI scale). */
export const ROI_SCALE = 1.5;
/** A detection's box to the first ROI: its longer side times this. */
const DETECTION_SCALE = 1.6;
/** Below this face score the face is lost, and BlazeFace looks again. */
export const MIN_FACE_SCORE = 0.5;
/** The iris crop's side, in eye widths (corner to corner). */
const IRIS_SCALE = 2.3;
/** While no face is tracked, BlazeFace runs every this many frames (it costs more than idling). */
const SEARCH_EVERY = 2;
/**
 * The iris model costs about three face meshes on the CPU (two 64×64 eyes through a deeper
 * network): it runs on every IRIS_EVERY-th tracked frame, and the gaze holds in between.
 */
export const IRIS_EVERY = 4;

/** Landmark indices (MediaPipe face mesh), "left" meaning the image's left. */
export const LM = {
  eyeOuterL: 33, eyeInnerL: 133, eyeTopL: 159, eyeBottomL: 145,
  eyeInnerR: 362, eyeOuterR: 263, eyeTopR: 386, eyeBottomR: 374,
  lipTop: 13, lipBottom: 14, mouthL: 61, mouthR: 291,
  noseTip: 1, cheekL: 234, cheekR: 454, forehead: 10, chin: 152,
  browL: 105, browR: 334,
} as const;

export interface TrackedFace {
  /** 468 × (x, y, z) in frame pixels (z on the same scale). */
  points: Float32Array;
  /** Iris centres, image-left eye first; null without the iris model. */
  irises: [Point, Point] | null;
  score: number;
  /** The ROI the mesh ran on. */
  roi: CropBox;
}

export interface FaceSearch {
  detect(frame: ImageBitmap): FaceDetection[];
  close?(): void;
}

export function point(p: Float32Array, i: number): { x: number; y: number; z: number } {
  return { x: p[3 * i]!, y: p[3 * i + 1]!, z: p[3 * i + 2]! };
}

/** Crop pixel → frame pixel for crop `c` of `side` pixels (the inverse of extractCrop). */
function toFrame(c: CropBox, side: number, x: number, y: number): Point {
  const k = c.size / side;
  const u = (x - side / 2) * k;
  const v = (y - side / 2) * k;
  const cos = Math.cos(c.roll), sin = Math.sin(c.roll);
  return { x: c.cx + cos * u - sin * v, y: c.cy + sin * u + cos * v };
}

/** The ROI for the next frame from this frame's landmarks (frame pixels). */
export function roiFromLandmarks(p: Float32Array): CropBox {
  const a = point(p, LM.eyeOuterL), b = point(p, LM.eyeOuterR);
  const roll = Math.atan2(b.y - a.y, b.x - a.x);
  const cos = Math.cos(roll), sin = Math.sin(roll);
  let u0 = Infinity, u1 = -Infinity, v0 = Infinity, v1 = -Infinity;
  for (let i = 0; i < MESH_POINTS; i++) {
    const x = p[3 * i]!, y = p[3 * i + 1]!;
    const u = cos * x + sin * y, v = -sin * x + cos * y; // in the face's upright axes
    u0 = Math.min(u0, u); u1 = Math.max(u1, u); v0 = Math.min(v0, v); v1 = Math.max(v1, v);
  }
  const uc = (u0 + u1) / 2, vc = (v0 + v1) / 2;
  return { cx: cos * uc - sin * vc, cy: sin * uc + cos * vc, size: ROI_SCALE * Math.max(u1 - u0, v1 - v0), roll };
}

/** The first ROI from a BlazeFace detection (box, and roll from its eye keypoints). */
export function roiFromDetection(d: FaceDetection): CropBox {
  const [e0, e1] = d.eyes[0].x <= d.eyes[1].x ? d.eyes : [d.eyes[1], d.eyes[0]];
  return { cx: d.x + d.width / 2, cy: d.y + d.height / 2, size: DETECTION_SCALE * Math.max(d.width, d.height), roll: Math.atan2(e1.y - e0.y, e1.x - e0.x) };
}

export class FaceTracker {
  private roi: CropBox | null = null;
  private readonly meshCanvas = new OffscreenCanvas(MESH_SIDE, MESH_SIDE);
  private readonly eyeCanvas = new OffscreenCanvas(IRIS_SIDE, IRIS_SIDE);
  private frames = 0;
  private meshRuns = 0;
  /** Offsets of the last irises from their eyes' centres (the gaze held between iris runs). */
  private irisOffsets: [Point, Point] | null = null;
  /**
   * Which eye crops are mirrored for the iris model (image-left eye first): MediaPipe's iris graph
   * feeds the eye at landmarks 33/133 as it is and mirrors the one at 362/263. On d3 this is the
   * one convention that puts both irises at the same place in their eyes (0.53 / 0.53 of the way
   * across; the others 0.43-0.61: test/unit/puppet.test.ts).
   */
  irisFlip: [boolean, boolean] = [false, true];
  /** Time of the last frame's stages (ms): detect is 0 on frames that tracked from landmarks. */
  readonly lastMs = { detect: 0, mesh: 0, iris: 0 };

  constructor(private readonly search: FaceSearch, readonly mesh: FaceMesh) {}

  get tracking(): boolean {
    return this.roi !== null;
  }

  /** The face in `frame`, or null (none found, or the mesh lost it). */
  async track(frame: ImageBitmap): Promise<TrackedFace | null> {
    this.frames++;
    this.lastMs.detect = 0;
    this.lastMs.mesh = 0;
    this.lastMs.iris = 0;
    if (!this.roi) {
      if (this.frames % SEARCH_EVERY !== 1 && SEARCH_EVERY > 1) return null;
      const t = performance.now();
      const found = this.search.detect(frame);
      this.lastMs.detect = performance.now() - t;
      const best = found.reduce<FaceDetection | null>((a, d) => (!a || d.score > a.score ? d : a), null);
      if (!best) return null;
      this.roi = roiFromDetection(best);
    }
    let t = performance.now();
    const roi = this.roi;
    const res = await this.mesh.run(extractCrop(frame, roi, MESH_SIDE, this.meshCanvas));
    this.lastMs.mesh = performance.now() - t;
    if (res.score < MIN_FACE_SCORE) {
      this.roi = null;
      this.irisOffsets = null;
      return null;
    }
    const k = roi.size / MESH_SIDE;
    const points = new Float32Array(MESH_POINTS * 3);
    for (let i = 0; i < MESH_POINTS; i++) {
      const q = toFrame(roi, MESH_SIDE, res.points[3 * i]!, res.points[3 * i + 1]!);
      points[3 * i] = q.x;
      points[3 * i + 1] = q.y;
      points[3 * i + 2] = res.points[3 * i + 2]! * k;
    }
    this.roi = roiFromLandmarks(points);
    let irises: [Point, Point] | null = null;
    const eyeCentre = (i: number, j: number): Point => ({ x: (points[3 * i]! + points[3 * j]!) / 2, y: (points[3 * i + 1]! + points[3 * j + 1]!) / 2 });
    const centres: [Point, Point] = [eyeCentre(LM.eyeOuterL, LM.eyeInnerL), eyeCentre(LM.eyeInnerR, LM.eyeOuterR)];
    if (this.mesh.hasIris && this.meshRuns++ % IRIS_EVERY !== 0 && this.irisOffsets) {
      const o = this.irisOffsets;
      irises = [{ x: centres[0].x + o[0].x, y: centres[0].y + o[0].y }, { x: centres[1].x + o[1].x, y: centres[1].y + o[1].y }];
    } else if (this.mesh.hasIris) {
      t = performance.now();
      const boxes = [[LM.eyeOuterL, LM.eyeInnerL], [LM.eyeInnerR, LM.eyeOuterR]].map(([i, j]) => {
        const a = point(points, i!), b = point(points, j!);
        const box: CropBox = { cx: (a.x + b.x) / 2, cy: (a.y + b.y) / 2, size: IRIS_SCALE * Math.hypot(b.x - a.x, b.y - a.y), roll: this.roi!.roll };
        return box;
      });
      const crops = boxes.map((b) => extractCrop(frame, b, IRIS_SIDE, this.eyeCanvas));
      const found = await this.mesh.irises(crops, this.irisFlip);
      irises = [toFrame(boxes[0]!, IRIS_SIDE, found[0]!.x, found[0]!.y), toFrame(boxes[1]!, IRIS_SIDE, found[1]!.x, found[1]!.y)];
      this.irisOffsets = [{ x: irises[0].x - centres[0].x, y: irises[0].y - centres[0].y }, { x: irises[1].x - centres[1].x, y: irises[1].y - centres[1].y }];
      this.lastMs.iris = performance.now() - t;
    }
    return { points, irises, score: res.score, roi };
  }

  reset(): void {
    this.roi = null;
    this.irisOffsets = null;
  }

  /** Frees the models, the face search's included. */
  dispose(): void {
    this.mesh.dispose();
    this.search.close?.();
    this.meshCanvas.width = 1;
    this.eyeCanvas.width = 1;
  }
}
