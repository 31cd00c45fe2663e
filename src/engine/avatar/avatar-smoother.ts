/**
 * Temporal smoothing of the translated avatar, in crop coordinates. The tracker keeps the crop on
 * the face, so from one translation to the next the face sits at the same crop pixels; what still
 * changes is partly the face (mouth, eyes, head turn) and partly the translator's own flicker
 * (a GAN answers small input changes with large output changes). Where the input crop has not
 * changed beyond the camera's noise, the avatar holds (the drawing does not re-roll on a still
 * head); where it has, the new avatar wins.
 *
 * Per translation, on n×n crops (CPU, about n² operations):
 * |Δ luma| between this input crop and the reference (the input the shown avatar stands for)
 * → mean over CELL×CELL cells, then a 3×3 mean over cells → weight of the shown avatar
 * exp(−(max(0, cost − FLOOR)/σ)²) per cell, interpolated bilinearly between cell centres →
 * out = new + w·(shown − new); the reference luma is blended with the same weights, so a slow
 * change (light, a slow turn) adds up until it passes the floor instead of being held for ever.
 * The reference (and the constants' reasons) is training/brushcam_anime/smoothing.py; the
 * evaluation (`training/eval_anime.py`) reports the temporal error with and without it.
 */

/** Camera noise: a cell neighbourhood whose mean |Δ luma| (in [0, 1]) stays under this holds its avatar. */
export const AVATAR_FLOOR = 0.012;
/** Change past the floor at which the weight of the shown avatar falls to 1/e. */
export const AVATAR_SIGMA = 0.04;
/** Cell side in crop pixels. */
export const AVATAR_CELL = 8;

const LUMA = [0.299, 0.587, 0.114] as const;

export class AvatarSmoother {
  private prevLuma: Float32Array | null = null;
  private prevOut: Uint8ClampedArray | null = null;
  private side = 0;

  constructor(
    readonly floor = AVATAR_FLOOR,
    readonly sigma = AVATAR_SIGMA,
  ) {
    if (!(floor >= 0 && floor < 1)) throw new RangeError(`avatar smoothing floor must be in [0, 1), got ${floor}`);
    if (!(sigma > 0)) throw new RangeError(`avatar smoothing sigma must be > 0, got ${sigma}`);
  }

  /**
   * `source`: the input crop (n×n RGBA), `avatar`: the translator's output for it (n×n RGBA).
   * Returns the avatar to show (a new array; alpha 255). A new size starts over.
   */
  apply(source: Uint8ClampedArray, avatar: Uint8ClampedArray, n: number): Uint8ClampedArray<ArrayBuffer> {
    if (source.length !== 4 * n * n || avatar.length !== 4 * n * n) {
      throw new Error(`avatar smoother: expected two ${n}×${n} RGBA images, got ${source.length / 4} and ${avatar.length / 4} pixels`);
    }
    const luma = new Float32Array(n * n);
    for (let p = 0; p < n * n; p++) luma[p] = (LUMA[0] * source[4 * p]! + LUMA[1] * source[4 * p + 1]! + LUMA[2] * source[4 * p + 2]!) / 255;
    const out = new Uint8ClampedArray(4 * n * n);
    const prevLuma = this.prevLuma;
    const prevOut = this.prevOut;
    if (!prevLuma || !prevOut || this.side !== n) {
      out.set(avatar);
    } else {
      const conf = this.confidence(luma, prevLuma, n);
      for (let p = 0; p < n * n; p++) {
        const a = conf[p]!;
        for (let c = 0; c < 3; c++) {
          const k = 4 * p + c;
          out[k] = avatar[k]! + a * (prevOut[k]! - avatar[k]!);
        }
        luma[p] = luma[p]! + a * (prevLuma[p]! - luma[p]!);
      }
    }
    for (let p = 0; p < n * n; p++) out[4 * p + 3] = 255;
    this.prevLuma = luma;
    this.prevOut = out;
    this.side = n;
    return out;
  }

  /**
   * Whether a translation of `source` would change nothing (every cell under the floor): the
   * painter then skips the translator, with the same output as running it.
   */
  holds(source: Uint8ClampedArray, n: number): boolean {
    const prevLuma = this.prevLuma;
    if (!prevLuma || !this.prevOut || this.side !== n || source.length !== 4 * n * n) return false;
    const luma = new Float32Array(n * n);
    for (let p = 0; p < n * n; p++) luma[p] = (LUMA[0] * source[4 * p]! + LUMA[1] * source[4 * p + 1]! + LUMA[2] * source[4 * p + 2]!) / 255;
    return this.confidence(luma, prevLuma, n).every((w) => w === 1);
  }

  /** Per pixel weight of the previous avatar. */
  private confidence(luma: Float32Array, prev: Float32Array, n: number): Float32Array {
    const m = Math.max(1, Math.floor(n / AVATAR_CELL));
    const cell = n / m;
    const cost = new Float32Array(m * m);
    const count = new Float32Array(m * m);
    for (let y = 0; y < n; y++) {
      const cy = Math.min(m - 1, Math.floor(y / cell));
      for (let x = 0; x < n; x++) {
        const c = cy * m + Math.min(m - 1, Math.floor(x / cell));
        cost[c]! += Math.abs(luma[y * n + x]! - prev[y * n + x]!);
        count[c]! += 1;
      }
    }
    for (let c = 0; c < m * m; c++) cost[c]! /= count[c]!;
    // 3×3 mean over cells (edges: the cells that exist), then the confidence per cell.
    const w = new Float32Array(m * m);
    for (let cy = 0; cy < m; cy++) {
      for (let cx = 0; cx < m; cx++) {
        let s = 0;
        let k = 0;
        for (let dy = -1; dy <= 1; dy++) {
          for (let dx = -1; dx <= 1; dx++) {
            const yy = cy + dy;
            const xx = cx + dx;
            if (yy < 0 || yy >= m || xx < 0 || xx >= m) continue;
            s += cost[yy * m + xx]!;
            k++;
          }
        }
        const d = Math.max(0, s / k - this.floor) / this.sigma;
        w[cy * m + cx] = Math.exp(-d * d);
      }
    }
    // Bilinear between cell centres.
    const out = new Float32Array(n * n);
    for (let y = 0; y < n; y++) {
      const fy = Math.min(Math.max((y + 0.5) / cell - 0.5, 0), m - 1);
      const y0 = Math.floor(fy);
      const y1 = Math.min(y0 + 1, m - 1);
      const ty = fy - y0;
      for (let x = 0; x < n; x++) {
        const fx = Math.min(Math.max((x + 0.5) / cell - 0.5, 0), m - 1);
        const x0 = Math.floor(fx);
        const x1 = Math.min(x0 + 1, m - 1);
        const tx = fx - x0;
        const top = w[y0 * m + x0]! * (1 - tx) + w[y0 * m + x1]! * tx;
        const bottom = w[y1 * m + x0]! * (1 - tx) + w[y1 * m + x1]! * tx;
        out[y * n + x] = top * (1 - ty) + bottom * ty;
      }
    }
    return out;
  }

  /** Forgets the previous avatar (a new face, or the face was lost). */
  reset(): void {
    this.prevLuma = null;
    this.prevOut = null;
    this.side = 0;
  }
}
