import type { CropBox } from './alignment';

/**
 * Sub-pixel face lock: where to paste the shown avatar on each frame. The detector's eye keypoints
 * jitter by about a pixel; the crop tracker's One Euro filter turns that into a slow wander of the
 * crop that the face does not make (a held avatar then slides over a still face) and lags the
 * face's own small moves (the avatar slides behind a moving one). The lock registers the face
 * itself: the frame's luma under the current box is aligned to the luma of the crop the shown
 * avatar was translated from (Lucas-Kanade: Gauss-Newton on shift, scale and turn, gradients of the mean
 * of both images, weighted to the face ellipse), so the avatar moves as far as the face did.
 *
 * Per frame: one LOCK_PAD × larger patch around the box at LOCK_PATCH px (one canvas read), then
 * LOCK_ITERS steps sampling that patch (about 3 × LOCK² operations each). The tracker's crop still
 * says where the face is: a lock that ends farther than LOCK_RELOCK × the side from it (centre or
 * side) gives up and returns the tracker's crop until the next reference; so does a head that
 * moves (LOCK_STILL), and so does one turned LOCK_TURN from the tracker's roll. The turn is registered
 * too: the tracker's roll, from two eye keypoints, swings by degrees on a still head, which at the
 * crop's rim moves the avatar by about a pixel a frame.
 * Both patches are smoothed by a 3×3 binomial kernel before they are sampled: the canvas read
 * shrinks the face about 5× without a prefilter, and that aliasing biases the turn.
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
 * Turned farther than this (radians) from the tracker's roll, the lock gives up. The tracker's roll
 * comes from the detector's two eye keypoints and swings by ±5° on a still head (src_s18, One Euro
 * smoothed): the bound sits past that swing, at 8.6°, where a real head turn has left it.
 */
export const LOCK_TURN = 0.15;
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

/** Luma (0-1) of an RGBA image, into `y` (a new array by default). */
export function lumaOf(rgba: Uint8ClampedArray, pixels: number, y = new Float32Array(pixels)): Float32Array {
  if (rgba.length !== 4 * pixels) throw new Error(`face lock: expected ${pixels} RGBA pixels, got ${rgba.length / 4}`);
  for (let p = 0; p < pixels; p++) y[p] = (LUMA[0] * rgba[4 * p]! + LUMA[1] * rgba[4 * p + 1]! + LUMA[2] * rgba[4 * p + 2]!) / 255;
  return y;
}

/** Smooths the m×m image in place by the 3×3 binomial kernel (edges clamped); `t` is scratch of the same size. */
export function binomial(img: Float32Array, m: number, t = new Float32Array(m * m)): Float32Array {
  for (let y = 0; y < m; y++) {
    for (let x = 0; x < m; x++) {
      const p = y * m + x;
      t[p] = 0.25 * img[p - (x > 0 ? 1 : 0)]! + 0.5 * img[p]! + 0.25 * img[p + (x < m - 1 ? 1 : 0)]!;
    }
  }
  for (let y = 0; y < m; y++) {
    for (let x = 0; x < m; x++) {
      const p = y * m + x;
      img[p] = 0.25 * t[p - (y > 0 ? m : 0)]! + 0.5 * t[p]! + 0.25 * t[p + (y < m - 1 ? m : 0)]!;
    }
  }
  return img;
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
 * One Gauss-Newton step: (dx, dy, k, r) with cur(c + (1 + k) R(r) (p − c) + d) ≈ ref(p) to first
 * order, in the least-squares sense over the weighted pixels (c the crop's centre, crop pixels,
 * r in radians), or null when singular.
 */
export function lockStep(cur: Float32Array, ref: Float32Array, w: Float32Array, n: number): [number, number, number, number] | null {
  const c = (n - 1) / 2;
  const H = new Float64Array(16);
  const b = new Float64Array(4);
  const J = new Float64Array(4);
  for (let y = 1; y < n - 1; y++) {
    for (let x = 1; x < n - 1; x++) {
      const p = y * n + x;
      const wt = w[p]!;
      if (wt === 0) continue;
      const gx = 0.25 * (cur[p + 1]! + ref[p + 1]! - cur[p - 1]! - ref[p - 1]!);
      const gy = 0.25 * (cur[p + n]! + ref[p + n]! - cur[p - n]! - ref[p - n]!);
      J[0] = gx;
      J[1] = gy;
      J[2] = gx * (x - c) + gy * (y - c);
      J[3] = gy * (x - c) - gx * (y - c);
      const e = wt * (ref[p]! - cur[p]!);
      for (let i = 0; i < 4; i++) {
        const wj = wt * J[i]!;
        for (let j = i; j < 4; j++) H[i * 4 + j] = H[i * 4 + j]! + wj * J[j]!;
        b[i] = b[i]! + J[i]! * e;
      }
    }
  }
  for (let i = 0; i < 4; i++) {
    H[i * 5] = H[i * 5]! + 1e-6;
    for (let j = 0; j < i; j++) H[i * 4 + j] = H[j * 4 + i]!;
  }
  return solve4(H, b);
}

/** Solves the 4×4 system H x = b (Gaussian elimination, partial pivoting); null when singular. */
function solve4(H: Float64Array, b: Float64Array): [number, number, number, number] | null {
  const a = Float64Array.from(H);
  const r = Float64Array.from(b);
  let det = 1;
  for (let k = 0; k < 4; k++) {
    let piv = k;
    for (let i = k + 1; i < 4; i++) if (Math.abs(a[i * 4 + k]!) > Math.abs(a[piv * 4 + k]!)) piv = i;
    if (piv !== k) {
      for (let j = 0; j < 4; j++) [a[k * 4 + j], a[piv * 4 + j]] = [a[piv * 4 + j]!, a[k * 4 + j]!];
      [r[k], r[piv]] = [r[piv]!, r[k]!];
      det = -det;
    }
    const d = a[k * 4 + k]!;
    det *= d;
    if (d === 0) return null;
    for (let i = k + 1; i < 4; i++) {
      const f = a[i * 4 + k]! / d;
      for (let j = k; j < 4; j++) a[i * 4 + j] = a[i * 4 + j]! - f * a[k * 4 + j]!;
      r[i] = r[i]! - f * r[k]!;
    }
  }
  if (!(Math.abs(det) > 1e-18)) return null;
  const x = [0, 0, 0, 0];
  for (let i = 3; i >= 0; i--) {
    let v = r[i]!;
    for (let j = i + 1; j < 4; j++) v -= a[i * 4 + j]! * x[j]!;
    x[i] = v / a[i * 4 + i]!;
  }
  return x as [number, number, number, number];
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
  /** The patch read around the box (luma, smoothed) and the smoothing's scratch: reused every frame. */
  private readonly patch = new Float32Array(LOCK_PATCH * LOCK_PATCH);
  private readonly scratch = new Float32Array(LOCK_PATCH * LOCK_PATCH);
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
    this.sampleBox(this.patchAround(read, box), box.size * LOCK_PAD, 0, 0, box.size, ref);
    return { ref, box: { ...box } };
  }

  /** From the next {@link follow} on, the face is registered against `r`. */
  use(r: LockReference): void {
    this.ref = r.ref;
    this.box = { ...r.box };
  }

  /**
   * The LOCK_PATCH² patch of LOCK_PAD × the side around `box` (along its roll): luma, smoothed by
   * the binomial kernel, in a buffer reused by the next call.
   */
  private patchAround(read: CropReader, box: CropBox): Float32Array {
    const m = LOCK_PATCH;
    return binomial(lumaOf(read({ ...box, size: box.size * LOCK_PAD }, m), m * m, this.patch), m, this.scratch);
  }

  /**
   * Samples the LOCK_SIDE² crop of side `side`, centred (ox, oy) from the patch's centre (frame px,
   * patch axes) and turned by `rot` from the patch's axes.
   */
  private sampleBox(patch: Float32Array, patchSide: number, ox: number, oy: number, side: number, into: Float32Array, rot = 0): void {
    const n = LOCK_SIDE;
    const m = LOCK_PATCH;
    const perPatchPx = patchSide / m;
    const s = side / n / perPatchPx; // patch px per crop px
    const cs = Math.cos(rot) * s;
    const sn = Math.sin(rot) * s;
    const qx0 = m / 2 - 0.5 + ox / perPatchPx;
    const qy0 = m / 2 - 0.5 + oy / perPatchPx;
    for (let y = 0; y < n; y++) {
      const gy = y + 0.5 - n / 2;
      for (let x = 0; x < n; x++) {
        const gx = x + 0.5 - n / 2;
        into[y * n + x] = sample(patch, m, qx0 + cs * gx - sn * gy, qy0 + sn * gx + cs * gy);
      }
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
    const roll = start.roll;
    const patchSide = start.size * LOCK_PAD;
    const patch = this.patchAround(read, start);
    // the box relative to the patch: centre offset along the patch's axes (frame px), side, turn
    let ox = 0;
    let oy = 0;
    let rot = 0;
    let side = start.size;
    let ok = true;
    for (let it = 0; it < LOCK_ITERS && ok; it++) {
      this.sampleBox(patch, patchSide, ox, oy, side, this.cur, rot);
      const d = lockStep(this.cur, ref, this.w, n);
      if (!d || !d.every(Number.isFinite) || Math.abs(d[2]) > 0.5 || Math.abs(d[3]) > 0.5) {
        ok = false;
        break;
      }
      const u = side / n;
      ox += u * (Math.cos(rot) * d[0] - Math.sin(rot) * d[1]);
      oy += u * (Math.sin(rot) * d[0] + Math.cos(rot) * d[1]);
      side *= 1 + d[2];
      rot += d[3];
    }
    const cos = Math.cos(roll);
    const sin = Math.sin(roll);
    const box: CropBox = { cx: start.cx + cos * ox - sin * oy, cy: start.cy + sin * ox + cos * oy, size: side, roll: roll + rot };
    const turn = Math.atan2(Math.sin(box.roll - tracked.roll), Math.cos(box.roll - tracked.roll));
    if (!ok || Math.hypot(box.cx - tracked.cx, box.cy - tracked.cy) > LOCK_RELOCK * tracked.size || Math.abs(box.size / tracked.size - 1) > LOCK_RELOCK
      || Math.abs(turn) > LOCK_TURN) {
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
