import { cropFromEyes, type CropBox, type Point } from './alignment';
import { OneEuroFilter } from './one-euro';

/** Largest crop side, in short sides of the frame (a face filling the frame, seen close up). */
export const MAX_SIDE_PER_SHORT_SIDE = 2;

/** One detected face, in frame pixels. */
export interface FaceDetection {
  /** Bounding box. */
  x: number;
  y: number;
  width: number;
  height: number;
  score: number;
  /** The two eye keypoints (any order). */
  eyes: [Point, Point];
}

/** The smoothed crop to translate and composite, and how visible the avatar should be. */
export interface TrackedCrop extends CropBox {
  /** 1 while a face is tracked or held; falls to 0 while fading out after the face is lost. */
  alpha: number;
  /** Whether this frame's crop comes from a detection (or held / faded). */
  state: 'tracking' | 'holding' | 'fading';
}

export interface CropTrackerOptions {
  /** Keep the last crop this long after the face disappears... */
  holdMs?: number;
  /** ...then fade the avatar out over this long (to the neutral avatar, never the raw face). */
  fadeMs?: number;
  /** One Euro parameters for the centre and size (pixels) and the roll (radians). */
  minCutoff?: number;
  beta?: number;
  rollMinCutoff?: number;
  rollBeta?: number;
}

/**
 * Turns per-frame detections (or none, between detector runs) into a stable crop: picks one
 * face (the one being tracked when it is still there, else the largest and most central),
 * smooths centre, size and roll with One Euro filters, keeps the crop's centre in the frame, holds
 * it when the face is lost and then fades it out.
 */
export class CropTracker {
  private readonly cx: OneEuroFilter;
  private readonly cy: OneEuroFilter;
  private readonly size: OneEuroFilter;
  private readonly roll: OneEuroFilter;
  private last: CropBox | null = null;
  private lastSeenMs = -Infinity;
  private readonly holdMs: number;
  private readonly fadeMs: number;

  constructor(
    public frameWidth: number,
    public frameHeight: number,
    o: CropTrackerOptions = {},
  ) {
    this.holdMs = o.holdMs ?? 600;
    this.fadeMs = o.fadeMs ?? 800;
    const mc = o.minCutoff ?? 0.3;
    const beta = o.beta ?? 0.01;
    this.cx = new OneEuroFilter(mc, beta);
    this.cy = new OneEuroFilter(mc, beta);
    this.size = new OneEuroFilter(mc, beta);
    this.roll = new OneEuroFilter(o.rollMinCutoff ?? 0.8, o.rollBeta ?? 0.5);
  }

  /** The face to follow among several: the tracked one if present, else largest × most central. */
  choose(faces: readonly FaceDetection[]): FaceDetection | null {
    if (faces.length === 0) return null;
    const W = this.frameWidth;
    const H = this.frameHeight;
    const half = Math.hypot(W, H) / 2;
    const rank = (f: FaceDetection): number => {
      const c = cropFromEyes(f.eyes[0], f.eyes[1]);
      const off = Math.hypot(c.cx - W / 2, c.cy - H / 2) / half;
      let r = f.width * f.height * (1 - 0.6 * off);
      // Stick to the face already tracked so two similar faces do not make the crop flip.
      if (this.last && Math.hypot(c.cx - this.last.cx, c.cy - this.last.cy) < 0.35 * this.last.size) r *= 2;
      return r;
    };
    return faces.reduce((best, f) => (rank(f) > rank(best) ? f : best));
  }

  /**
   * Advances to time `tMs`. `faces`: this frame's detections ([] when the detector ran and
   * found none), or null when the detector did not run on this frame. Returns null when there
   * is nothing to show (no face yet, or faded out).
   */
  update(faces: readonly FaceDetection[] | null, tMs: number): TrackedCrop | null {
    const t = tMs / 1000;
    const face = faces ? this.choose(faces) : null;
    if (face) {
      if (tMs - this.lastSeenMs > this.holdMs) this.resetFilters(); // a new appearance: no smoothing from a stale crop
      this.lastSeenMs = tMs;
      const raw = cropFromEyes(face.eyes[0], face.eyes[1]);
      let roll = raw.roll;
      const prev = this.roll.value;
      if (prev !== null) roll = prev + wrapAngle(roll - prev);
      this.last = this.clamp({
        cx: this.cx.filter(raw.cx, t),
        cy: this.cy.filter(raw.cy, t),
        size: this.size.filter(raw.size, t),
        roll: this.roll.filter(roll, t),
      });
      return { ...this.last, alpha: 1, state: 'tracking' };
    }
    if (!this.last) return null;
    const since = tMs - this.lastSeenMs;
    if (faces === null && since <= this.holdMs) return { ...this.last, alpha: 1, state: 'tracking' };
    if (since <= this.holdMs) return { ...this.last, alpha: 1, state: 'holding' };
    const alpha = 1 - (since - this.holdMs) / this.fadeMs;
    if (alpha <= 0) {
      this.last = null;
      this.resetFilters();
      return null;
    }
    return { ...this.last, alpha, state: 'fading' };
  }

  /**
   * At the frame's edges the crop stays centred on the face (the avatar must cover it; the part
   * of the square outside the frame is filled from the frame's edge when extracted and clipped
   * when composited): only its centre is kept inside the frame and its side at most
   * {@link MAX_SIDE_PER_SHORT_SIDE} × the frame's short side.
   */
  clamp(c: CropBox): CropBox {
    return {
      cx: Math.min(Math.max(c.cx, 0), this.frameWidth),
      cy: Math.min(Math.max(c.cy, 0), this.frameHeight),
      size: Math.min(c.size, MAX_SIDE_PER_SHORT_SIDE * Math.min(this.frameWidth, this.frameHeight)),
      roll: c.roll,
    };
  }

  private resetFilters(): void {
    this.cx.reset();
    this.cy.reset();
    this.size.reset();
    this.roll.reset();
  }
}

function wrapAngle(a: number): number {
  return Math.atan2(Math.sin(a), Math.cos(a));
}
