import type { CropBox } from './alignment';

/**
 * Sub-pixel face lock: where to paste the shown avatar on each frame. The detector's eye keypoints
 * jitter by about a pixel; the crop tracker's One Euro filter turns that into a slow wander of the
 * crop that the face does not make (a held avatar then slides over a still face) and lags the
 * face's own small moves (the avatar slides behind a moving one). The lock registers the face
 * itself: the frame's luma under the current box is aligned to the luma of the crop the shown
 * avatar was translated from (Lucas-Kanade: Gauss-Newton on shift and scale, gradients of the mean
 * of both images, weighted to the face ellipse), so the avatar moves as far as the face did.
 *
 * Per frame: one LOCK_PAD × larger patch around the box at LOCK_PATCH px (one canvas read), then
 * LOCK_ITERS steps sampling that patch (about 3 × LOCK² operations each). The tracker's crop still
 * says where the face is: a lock that ends farther than LOCK_RELOCK × the side from it (centre or
 * side) gives up and returns the tracker's crop until the next reference; so does a head that
 * moves (LOCK_STILL). Roll is the tracker's.
 * The reference is training/brushcam_anime/facelock.py (same algorithm and constants; a test reads
 * them from here); `training/flicker_diag.py` measures what it changes.
 */

/** Registration crop side (pixels). */
export const LOCK_SIDE = 48;
/** Gauss-Newton steps per frame. */
export const LOCK_ITERS = 4;
/** Farther than this fraction of the side from the tracker's crop, the lock gives up. */
export const LOCK_RELOCK = 0.08;
/**
 * The lock works only while the head is nearly still: when the tracker's crop moved more than this
 * fraction of its side since the last frame, it is taken as it is and the lock starts over at the
 * next reference (Lucas-Kanade converges only within a crop pixel or two; a fast head, or frames
 * dropped under load, move the face farther between two frames than that).
 */
export const LOCK_STILL = 0.03;
/** The patch read per frame: the box enlarged by this factor, LOCK_PATCH px a side. */
export const LOCK_PAD = 1.25;
export const LOCK_PATCH = 60;
/** Registration weight: inside this fraction of the compositor's face ellipse (0.42 × 0.5 of the side). */
export const LOCK_INNER = 0.85;
const MASK_RX = 0.42;
const MASK_RY = 0.5;

const LUMA = [0.299, 0.587, 0.114] as const;

/** Luma (0-1) of an RGBA image. */
export function lumaOf(rgba: Uint8ClampedArray, pixels: number): Float32Array {
  if (rgba.length !== 4 * pixels) throw new Error(`face lock: expected ${pixels} RGBA pixels, got ${rgba.length / 4}`);
  const y = new Float32Array(pixels);
  for (let p = 0; p < pixels; p++) y[p] = (LUMA[0] * rgba[4 * p]! + LUMA[1] * rgba[4 * p + 1]! + LUMA[2] * rgba[4 * p + 2]!) / 255;
  return y;
}

/** Bilinear sample of an m×m image at continuous pixel-index coordinates (edges clamped). */
function sample(img: Float32Array, m: number, x: number, y: number): number {
  const cx = Math.min(Math.max(x, 0), m - 1);
  const cy = Math.min(Math.max(y, 0), m - 1);
  const x0 = Math.min(Math.floor(cx), m - 2);
  const y0 = Math.min(Math.floor(cy), m - 2);
  const tx = cx - x0;
  const ty = cy - y0;
  const k = y0 * m + x0;
  const top = img[k]! + tx * (img[k + 1]! - img[k]!);
  const bottom = img[k + m]! + tx * (img[k + m + 1]! - img[k + m]!);
  return top + ty * (bottom - top);
}

/** Registration weights: 1 inside LOCK_INNER of the face ellipse of an n×n crop. */
function lockWeights(n: number): Float32Array {
  const w = new Float32Array(n * n);
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < n; i++) {
      const u = (i + 0.5) / n - 0.5;
      const v = (j + 0.5) / n - 0.5;
      w[j * n + i] = Math.hypot(u / MASK_RX, v / MASK_RY) < LOCK_INNER ? 1 : 0;
    }
  }
  return w;
}

/**
 * One Gauss-Newton step: (dx, dy, k) with cur(c + (1 + k)(p − c) + d) ≈ ref(p) in the least-squares
 * sense over the weighted pixels (c the crop's centre, crop pixels), or null when singular.
 */
export function lockStep(cur: Float32Array, ref: Float32Array, w: Float32Array, n: number): [number, number, number] | null {
  const c = (n - 1) / 2;
  const H = [0, 0, 0, 0, 0, 0]; // xx xy xk yy yk kk
  const b = [0, 0, 0];
  for (let y = 1; y < n - 1; y++) {
    for (let x = 1; x < n - 1; x++) {
      const p = y * n + x;
      const wt = w[p]!;
      if (wt === 0) continue;
      const gx = 0.25 * (cur[p + 1]! + ref[p + 1]! - cur[p - 1]! - ref[p - 1]!);
      const gy = 0.25 * (cur[p + n]! + ref[p + n]! - cur[p - n]! - ref[p - n]!);
      const gk = gx * (x - c) + gy * (y - c);
      const e = ref[p]! - cur[p]!;
      H[0]! += wt * gx * gx; H[1]! += wt * gx * gy; H[2]! += wt * gx * gk;
      H[3]! += wt * gy * gy; H[4]! += wt * gy * gk; H[5]! += wt * gk * gk;
      b[0]! += wt * gx * e; b[1]! += wt * gy * e; b[2]! += wt * gk * e;
    }
  }
  const eps = 1e-6;
  const a = H[0]! + eps, bb = H[1]!, cc = H[2]!, d = H[3]! + eps, e = H[4]!, f = H[5]! + eps;
  // symmetric 3×3 [[a bb cc] [bb d e] [cc e f]] by Cramer's rule
  const det = a * (d * f - e * e) - bb * (bb * f - e * cc) + cc * (bb * e - d * cc);
  if (!(Math.abs(det) > 1e-18)) return null;
  const [r0, r1, r2] = b as [number, number, number];
  const dx = (r0 * (d * f - e * e) - bb * (r1 * f - e * r2) + cc * (r1 * e - d * r2)) / det;
  const dy = (a * (r1 * f - e * r2) - r0 * (bb * f - e * cc) + cc * (bb * r2 - r1 * cc)) / det;
  const dk = (a * (d * r2 - r1 * e) - bb * (bb * r2 - r1 * cc) + r0 * (bb * e - d * cc)) / det;
  return [dx, dy, dk];
}

/** Reads the aligned square crop `box` of the current frame into a side×side RGBA image. */
export type CropReader = (box: CropBox, side: number) => Uint8ClampedArray;

/** A face lock reference: the registration crop's luma and the box it was read at. */
export interface LockReference {
  readonly ref: Float32Array;
  readonly box: CropBox;
}

export class FaceLock {
  private ref: Float32Array | null = null;
  private box: CropBox | null = null;
  private lastTracked: CropBox | null = null;
  private readonly w = lockWeights(LOCK_SIDE);
  private readonly cur = new Float32Array(LOCK_SIDE * LOCK_SIDE);
  /** Frames on which the lock gave up (lost the face or strayed from the tracker). */
  lost = 0;

  /** Whether a reference is set (false: the next frames follow the tracker's crop). */
  get locked(): boolean {
    return this.ref !== null;
  }

  /**
   * The crop the shown avatar was translated from: `read` around `box` (the box it is pasted at),
   * sampled through the same patch as every frame's, so both pass the same filters.
   */
  setReference(read: CropReader, box: CropBox): void {
    this.use(this.reference(read, box));
  }

  /**
   * The reference of the crop at `box` of the frame `read` reads, to {@link use} later: a
   * translation that finishes frames after its crop was read is registered against its own crop.
   */
  reference(read: CropReader, box: CropBox): LockReference {
    const ref = new Float32Array(LOCK_SIDE * LOCK_SIDE);
    this.sampleBox(lumaOf(read({ ...box, size: box.size * LOCK_PAD }, LOCK_PATCH), LOCK_PATCH * LOCK_PATCH), box.size * LOCK_PAD, 0, 0, box.size, ref);
    return { ref, box: { ...box } };
  }

  /** From the next {@link follow} on, the face is registered against `r`. */
  use(r: LockReference): void {
    this.ref = r.ref;
    this.box = { ...r.box };
  }

  /** Samples the LOCK_SIDE² crop of side `side`, centred (ox, oy) from the patch's centre (frame px, patch axes). */
  private sampleBox(patch: Float32Array, patchSide: number, ox: number, oy: number, side: number, into: Float32Array): void {
    const n = LOCK_SIDE;
    const m = LOCK_PATCH;
    const perPatchPx = patchSide / m;
    const s = side / n / perPatchPx; // patch px per crop px
    const qx0 = m / 2 - 0.5 + ox / perPatchPx;
    const qy0 = m / 2 - 0.5 + oy / perPatchPx;
    for (let y = 0; y < n; y++) {
      for (let x = 0; x < n; x++) into[y * n + x] = sample(patch, m, qx0 + (x + 0.5 - n / 2) * s, qy0 + (y + 0.5 - n / 2) * s);
    }
  }

  /** The box to paste the avatar at on this frame, from the tracker's crop `tracked`. */
  follow(read: CropReader, tracked: CropBox): CropBox {
    const last = this.lastTracked;
    this.lastTracked = { ...tracked };
    if (last && (Math.hypot(tracked.cx - last.cx, tracked.cy - last.cy) > LOCK_STILL * tracked.size || Math.abs(tracked.size / last.size - 1) > LOCK_STILL)) {
      this.ref = null;
      this.box = null;
    }
    const ref = this.ref;
    const start = this.box;
    if (!ref || !start) return { ...tracked };
    const n = LOCK_SIDE;
    const m = LOCK_PATCH;
    const roll = tracked.roll;
    const patchSide = start.size * LOCK_PAD;
    const patch = lumaOf(read({ cx: start.cx, cy: start.cy, size: patchSide, roll }, m), m * m);
    // the box relative to the patch: centre offset along the patch's axes (frame px), side
    let ox = 0;
    let oy = 0;
    let side = start.size;
    let ok = true;
    for (let it = 0; it < LOCK_ITERS && ok; it++) {
      this.sampleBox(patch, patchSide, ox, oy, side, this.cur);
      const d = lockStep(this.cur, ref, this.w, n);
      if (!d || !d.every(Number.isFinite) || Math.abs(d[2]) > 0.5) {
        ok = false;
        break;
      }
      ox += (side / n) * d[0];
      oy += (side / n) * d[1];
      side *= 1 + d[2];
    }
    const cos = Math.cos(roll);
    const sin = Math.sin(roll);
    const box: CropBox = { cx: start.cx + cos * ox - sin * oy, cy: start.cy + sin * ox + cos * oy, size: side, roll };
    if (!ok || Math.hypot(box.cx - tracked.cx, box.cy - tracked.cy) > LOCK_RELOCK * tracked.size || Math.abs(box.size / tracked.size - 1) > LOCK_RELOCK) {
      this.lost++;
      this.ref = null;
      this.box = null;
      return { ...tracked };
    }
    this.box = box;
    return { ...box };
  }

  /** Forgets the reference (a new face, the face lost, a new size). */
  reset(): void {
    this.ref = null;
    this.box = null;
    this.lastTracked = null;
  }
}
