import * as tf from '@tensorflow/tfjs-core';

/**
 * The "stability" option of painting styles: blends each new stylised frame with the previous
 * output, warped by a cheap block-matching motion estimate, where that estimate is trustworthy.
 * The trained temporal losses stay the main source of consistency; this removes what shimmer is
 * left. The algorithm, its constants and its reasons are in training/brushcam_train/stability.py
 * (the reference; test/fixtures/stability-parity.json holds its output on two frames).
 *
 * Per frame, at the network's size h×w, all on the current tfjs backend (no readback):
 * motion image (luma averaged over k×k blocks, ~160 px long) → cost of each displacement in
 * [-2, 2]² (|difference|, 3×3 mean) → best displacement and confidence strength·exp(-(cost/σ)²)
 * → previous output gathered at the displaced position → clamped to the new output's 3×3
 * min..max → new + confidence·(previous − new).
 */
export const RADIUS = 2;
export const MOTION_SIDE = 160;
export const SIGMA = 0.05;
export const DEFAULT_STRENGTH = 0.5;
const LUMA = [0.2126, 0.7152, 0.0722];

/** (dy, dx) candidates: (0, 0) first, then the others row by row (ties go to the earliest). */
export const DISPLACEMENTS: readonly (readonly [number, number])[] = (() => {
  const out: [number, number][] = [[0, 0]];
  for (let dy = -RADIUS; dy <= RADIUS; dy++) for (let dx = -RADIUS; dx <= RADIUS; dx++) if (dy || dx) out.push([dy, dx]);
  return out;
})();

export function motionBlock(h: number, w: number): number {
  return Math.max(1, Math.round(Math.max(h, w) / MOTION_SIDE));
}

interface Grid {
  h: number;
  w: number;
  k: number;
  hs: number;
  ws: number;
  /** Per full-resolution pixel: index of its small pixel, its row and its column (float32). */
  cell: tf.Tensor1D;
  rows: tf.Tensor1D;
  cols: tf.Tensor1D;
  dy: tf.Tensor1D;
  dx: tf.Tensor1D;
}

export class Stabilizer {
  private prev: { g: tf.Tensor4D; y: tf.Tensor4D } | null = null;
  private grid: Grid | null = null;

  constructor(readonly strength = DEFAULT_STRENGTH, readonly sigma = SIGMA) {
    if (!(strength >= 0 && strength < 1)) throw new RangeError(`stability strength must be in [0, 1), got ${strength}`);
    if (!(sigma > 0)) throw new RangeError(`stability sigma must be > 0, got ${sigma}`);
  }

  /**
   * x: the network's input, y: its output, both [1, h, w, 3] in [0, 1]. Returns a new tensor
   * (the caller owns it); the stabilizer keeps copies of what it needs. A new size starts over.
   */
  apply(x: tf.Tensor4D, y: tf.Tensor4D): tf.Tensor4D {
    const [, h, w] = y.shape;
    if (x.shape[1] !== h || x.shape[2] !== w) throw new Error(`stabilizer: input ${x.shape} and output ${y.shape} differ in size`);
    const k = motionBlock(h, w);
    const hs = Math.floor(h / k);
    const ws = Math.floor(w / k);
    return tf.tidy(() => {
      const luma = tf.sum(tf.mul(x, tf.tensor1d(LUMA)), 3, true) as tf.Tensor4D;
      const g = k > 1 ? tf.avgPool(luma, k, k, 'valid') : luma;
      const prev = this.prev;
      if (!prev || prev.y.shape[1] !== h || prev.y.shape[2] !== w || Math.min(hs, ws) <= RADIUS) {
        this.remember(Math.min(hs, ws) > RADIUS ? g : null, y);
        return tf.clone(y);
      }
      const grid = this.gridFor(h, w, k, hs, ws);
      const padded = tf.mirrorPad(prev.g, [[0, 0], [RADIUS, RADIUS], [RADIUS, RADIUS], [0, 0]], 'reflect');
      const costs = DISPLACEMENTS.map(([dy, dx]) => {
        const shifted = tf.slice(padded, [0, RADIUS + dy, RADIUS + dx, 0], [1, hs, ws, 1]);
        const diff = tf.mirrorPad(tf.abs(tf.sub(g, shifted)), [[0, 0], [1, 1], [1, 1], [0, 0]], 'reflect');
        return tf.avgPool(diff as tf.Tensor4D, 3, 1, 'valid');
      });
      const all = tf.concat(costs, 3);
      const best = tf.reshape(tf.argMin(all, 3), [hs * ws]);
      const cost = tf.reshape(tf.min(all, 3), [hs * ws]);
      const conf = tf.mul(this.strength, tf.exp(tf.neg(tf.square(tf.div(cost, this.sigma)))));
      const bestFull = tf.gather(best, grid.cell);
      const sy = tf.clipByValue(tf.add(grid.rows, tf.mul(tf.gather(grid.dy, bestFull), k)), 0, h - 1);
      const sx = tf.clipByValue(tf.add(grid.cols, tf.mul(tf.gather(grid.dx, bestFull), k)), 0, w - 1);
      const src = tf.cast(tf.add(tf.mul(sy, w), sx), 'int32');
      const warped = tf.reshape(tf.gather(tf.reshape(prev.y, [h * w, 3]), src), [1, h, w, 3]);
      const lo = tf.neg(tf.maxPool(tf.neg(y), 3, 1, 'same'));
      const hi = tf.maxPool(y, 3, 1, 'same');
      const clamped = tf.minimum(tf.maximum(warped, lo), hi);
      const a = tf.reshape(tf.gather(conf, grid.cell), [1, h, w, 1]);
      const out = tf.add(y, tf.mul(a, tf.sub(clamped, y))) as tf.Tensor4D;
      this.remember(g, out);
      return out;
    });
  }

  /** Forgets the previous frame (a new style, a jump in time). */
  reset(): void {
    if (this.prev) tf.dispose([this.prev.g, this.prev.y]);
    this.prev = null;
  }

  dispose(): void {
    this.reset();
    if (this.grid) tf.dispose([this.grid.cell, this.grid.rows, this.grid.cols, this.grid.dy, this.grid.dx]);
    this.grid = null;
  }

  private remember(g: tf.Tensor4D | null, y: tf.Tensor4D): void {
    this.reset();
    if (g) this.prev = { g: tf.keep(tf.clone(g)), y: tf.keep(tf.clone(y)) };
  }

  private gridFor(h: number, w: number, k: number, hs: number, ws: number): Grid {
    const old = this.grid;
    if (old && old.h === h && old.w === w) return old;
    if (old) tf.dispose([old.cell, old.rows, old.cols, old.dy, old.dx]);
    const cell = new Int32Array(h * w);
    const rows = new Float32Array(h * w);
    const cols = new Float32Array(h * w);
    for (let i = 0; i < h; i++) {
      const si = Math.min(Math.floor(i / k), hs - 1);
      for (let j = 0; j < w; j++) {
        const p = i * w + j;
        cell[p] = si * ws + Math.min(Math.floor(j / k), ws - 1);
        rows[p] = i;
        cols[p] = j;
      }
    }
    const grid: Grid = {
      h, w, k, hs, ws,
      cell: tf.keep(tf.tensor1d(cell, 'int32')),
      rows: tf.keep(tf.tensor1d(rows)),
      cols: tf.keep(tf.tensor1d(cols)),
      dy: tf.keep(tf.tensor1d(DISPLACEMENTS.map((d) => d[0]))),
      dx: tf.keep(tf.tensor1d(DISPLACEMENTS.map((d) => d[1]))),
    };
    this.grid = grid;
    return grid;
  }
}
