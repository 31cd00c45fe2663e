/**
 * Temporal smoothing of the translated avatar, in crop coordinates. The tracker keeps the crop on
 * the face, so from one translation to the next the face sits at the same crop pixels; what still
 * changes is partly the face (mouth, eyes, head turn) and partly the translator's own flicker
 * (a GAN answers small input changes with large output changes). Where the input crop has not
 * changed, the new avatar is blended with the previous one; where it has, the new avatar wins.
 *
 * Per translation, on n×n crops (CPU, about n² operations):
 * |Δ luma| between this and the previous input crop → mean over CELL×CELL cells, then a 3×3 mean
 * over cells → confidence strength·exp(−(cost/σ)²) per cell, interpolated bilinearly between cell
 * centres → out = new + confidence·(previous out − new).
 * The reference (and the constants' reasons) is training/brushcam_anime/smoothing.py; the
 * evaluation (`training/eval_anime.py`) reports the temporal error with and without it.
 */

/** Weight of the previous avatar where the face did not change. */
export const AVATAR_STRENGTH = 0.7;
/** Input change (mean |Δ luma| in [0, 1] over a cell neighbourhood) at which the weight falls to 1/e of it. */
export const AVATAR_SIGMA = 0.04;
/** Cell side in crop pixels. */
export const AVATAR_CELL = 8;

const LUMA = [0.299, 0.587, 0.114] as const;

export class AvatarSmoother {
  private prevLuma: Float32Array | null = null;
  private prevOut: Uint8ClampedArray | null = null;
  private side = 0;

  constructor(
    readonly strength = AVATAR_STRENGTH,
    readonly sigma = AVATAR_SIGMA,
  ) {
    if (!(strength >= 0 && strength < 1)) throw new RangeError(`avatar smoothing strength must be in [0, 1), got ${strength}`);
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
      }
    }
    for (let p = 0; p < n * n; p++) out[4 * p + 3] = 255;
    this.prevLuma = luma;
    this.prevOut = out;
    this.side = n;
    return out;
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
        const d = s / k / this.sigma;
        w[cy * m + cx] = this.strength * Math.exp(-d * d);
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
