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
 * [-2, 2]² (|difference|, 3×3 mean) → best displacement, refined to sub-pixel by a parabola per
 * axis, and confidence strength·exp(-(cost/σ)²) → previous output sampled bilinearly at the
 * displaced position → clamped to the new output's 3×3 min..max → new + confidence·(previous − new).
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

/**
 * Per displacement: the indices of (dy, dx−1), (dy, dx+1), (dy−1, dx), (dy+1, dx), and whether
 * each exists in the window (a missing one points at the displacement itself).
 */
const NEIGHBOURS: { idx: number[]; ok: number[] } = (() => {
  const key = (dy: number, dx: number): number => DISPLACEMENTS.findIndex(([a, b]) => a === dy && b === dx);
  const idx: number[] = [];
  const ok: number[] = [];
  DISPLACEMENTS.forEach(([dy, dx], i) => {
    for (const [ny, nx] of [[dy, dx - 1], [dy, dx + 1], [dy - 1, dx], [dy + 1, dx]] as const) {
      const j = key(ny, nx);
      idx.push(j < 0 ? i : j);
      ok.push(j < 0 ? 0 : 1);
    }
  });
  return { idx, ok };
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
  /** [D, 4] neighbour displacement indices and their validity (see NEIGHBOURS). */
  nIdx: tf.Tensor2D;
  nOk: tf.Tensor2D;
  /** Per small pixel p: p·D, the start of its row in the flattened [hs·ws·D] costs. */
  rowStart: tf.Tensor1D;
}

export class Stabilizer {
  private prev: { g: tf.Tensor4D; y: tf.Tensor4D } | null = null;
  /** The luma weights, uploaded once. */
  private luma: tf.Tensor1D | null = null;
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
      this.luma ??= tf.keep(tf.tensor1d(LUMA));
      const luma = tf.sum(tf.mul(x, this.luma), 3, true) as tf.Tensor4D;
      const g = k > 1 ? tf.avgPool(luma, k, k, 'valid') : luma;
      const prev = this.prev;
      if (!prev || prev.y.shape[1] !== h || prev.y.shape[2] !== w || Math.min(hs, ws) <= RADIUS) {
        this.remember(Math.min(hs, ws) > RADIUS ? g : null, y);
        return tf.clone(y);
      }
      const grid = this.gridFor(h, w, k, hs, ws);
      const padded = tf.mirrorPad(prev.g, [[0, 0], [RADIUS, RADIUS], [RADIUS, RADIUS], [0, 0]], 'reflect');
      // |difference| for every displacement as channels, then one 3×3 mean over all of them.
      const diffs = tf.concat(DISPLACEMENTS.map(([dy, dx]) =>
        tf.abs(tf.sub(g, tf.slice(padded, [0, RADIUS + dy, RADIUS + dx, 0], [1, hs, ws, 1])))), 3);
      const pooled = tf.avgPool(tf.mirrorPad(diffs, [[0, 0], [1, 1], [1, 1], [0, 0]], 'reflect') as tf.Tensor4D, 3, 1, 'valid');
      const all = tf.reshape(pooled, [hs * ws, DISPLACEMENTS.length]);
      const best = tf.argMin(all, 1);
      const cost = tf.min(all, 1);
      const conf = tf.mul(this.strength, tf.exp(tf.neg(tf.square(tf.div(cost, this.sigma)))));
      // Sub-pixel: a parabola through the best cost and its neighbours, per axis.
      const n = tf.gather(grid.nIdx, best);                                   // [hs·ws, 4]
      const ok = tf.gather(grid.nOk, best);
      const flat = tf.add(tf.reshape(grid.rowStart, [hs * ws, 1]), n);
      const cn = tf.reshape(tf.gather(tf.reshape(all, [-1]), tf.reshape(flat, [-1])), [hs * ws, 4]);
      const col = (t: tf.Tensor, i: number): tf.Tensor1D => tf.reshape(tf.slice(t, [0, i], [hs * ws, 1]), [hs * ws]);
      const offset = (i: number): tf.Tensor1D => {
        const m = col(cn, i);
        const p = col(cn, i + 1);
        const den = tf.add(tf.sub(m, tf.mul(2, cost)), p);
        const good = tf.logicalAnd(tf.greater(den, 1e-6), tf.greater(tf.mul(col(ok, i), col(ok, i + 1)), 0.5));
        const safe = tf.where(good, den, tf.onesLike(den));
        return tf.clipByValue(tf.where(good, tf.div(tf.sub(m, p), tf.mul(2, safe)), tf.zerosLike(cost)), -0.5, 0.5) as tf.Tensor1D;
      };
      const ox = offset(0);
      const oy = offset(2);
      const dySmall = tf.mul(tf.add(tf.gather(grid.dy, best), oy), k);
      const dxSmall = tf.mul(tf.add(tf.gather(grid.dx, best), ox), k);
      const yy = tf.clipByValue(tf.add(grid.rows, tf.gather(dySmall, grid.cell)), 0, h - 1);
      const xx = tf.clipByValue(tf.add(grid.cols, tf.gather(dxSmall, grid.cell)), 0, w - 1);
      const y0 = tf.floor(yy);
      const x0 = tf.floor(xx);
      const fy = tf.reshape(tf.sub(yy, y0), [h * w, 1]);
      const fx = tf.reshape(tf.sub(xx, x0), [h * w, 1]);
      const y1 = tf.minimum(tf.add(y0, 1), h - 1);
      const x1 = tf.minimum(tf.add(x0, 1), w - 1);
      const src = tf.reshape(prev.y, [h * w, 3]);
      const at = (r: tf.Tensor, c: tf.Tensor): tf.Tensor => tf.gather(src, tf.cast(tf.add(tf.mul(r, w), c), 'int32'));
      const top = tf.add(tf.mul(at(y0, x0), tf.sub(1, fx)), tf.mul(at(y0, x1), fx));
      const bottom = tf.add(tf.mul(at(y1, x0), tf.sub(1, fx)), tf.mul(at(y1, x1), fx));
      const warped = tf.reshape(tf.add(tf.mul(top, tf.sub(1, fy)), tf.mul(bottom, fy)), [1, h, w, 3]);
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
    if (this.grid) disposeGrid(this.grid);
    this.grid = null;
    this.luma?.dispose();
    this.luma = null;
  }

  private remember(g: tf.Tensor4D | null, y: tf.Tensor4D): void {
    this.reset();
    if (g) this.prev = { g: tf.keep(tf.clone(g)), y: tf.keep(tf.clone(y)) };
  }

  private gridFor(h: number, w: number, k: number, hs: number, ws: number): Grid {
    const old = this.grid;
    if (old && old.h === h && old.w === w) return old;
    if (old) disposeGrid(old);
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
      nIdx: tf.keep(tf.tensor2d(NEIGHBOURS.idx, [DISPLACEMENTS.length, 4], 'int32')),
      nOk: tf.keep(tf.tensor2d(NEIGHBOURS.ok, [DISPLACEMENTS.length, 4])),
      rowStart: tf.keep(tf.tensor1d(Int32Array.from({ length: hs * ws }, (_, p) => p * DISPLACEMENTS.length), 'int32')),
    };
    this.grid = grid;
    return grid;
  }
}

function disposeGrid(g: Grid): void {
  tf.dispose([g.cell, g.rows, g.cols, g.dy, g.dx, g.nIdx, g.nOk, g.rowStart]);
}
