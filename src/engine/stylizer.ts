import { Stabilizer } from './ml/stabilizer';
import { runOnPixels, type PaintNet } from './ml/paint-net';
import { ResolutionGovernor } from './governor';
import { internalSize } from '../shared/sizes';

/**
 * Engine-side time per frame that keeps a 30-fps camera's rate: a 30 fps frame interval less
 * a fifth for the page side (picture in and out, messages).
 */
export const DEFAULT_BUDGET_MS = 0.8 * (1000 / 30);

export { DEFAULT_MAX_SIDE, internalSize } from '../shared/sizes';

/** What the stylizer runs at one step of the governor's ladder. */
export interface Level {
  /** Long side of the internal picture. */
  side: number;
  /** The tier's name ('tiny'), or null for the full model. */
  tier: string | null;
}

/**
 * A cheaper model tier at internal side s draws about as close to the full network's
 * full-size output as the full model at TIER_FIDELITY_SIDE·s does. Measured with
 * training/brushcam_train/fidelity.py (luma SSIM / SqueezeNet feature distance against udnie's
 * full model at 640×360, d3 clip): tiny 0.748/0.623 at 96 px against the full model's
 * 0.731/0.638; at 320 px 0.827/0.467 against 0.812/0.417. Nearly a tie, so the tier at a size
 * ranks just below the full model at the same size, and far above the full model at a smaller
 * size that costs the same.
 */
export const TIER_FIDELITY_SIDE = 0.9;
/** Timed frames per network at warm-up (after one untimed): the least is the network's cost. */
export const WARMUP_RUNS = 3;
/**
 * Timed frames stop early once they add up to this (ms). The least of a few runs guards against
 * an interruption of a few tens of ms; where one frame alone takes a second (a GPU emulated on
 * the CPU), such a pause is a few per cent of it, and each further run would hold the filter
 * back by that second again (warm-up took 19 s on SwiftShader's WebGL, 80-120 s with a core busy).
 */
export const WARMUP_BUDGET_MS = 1000;

/** One step of the governor's ladder: what it runs and what it costs, relative to the full model. */
export interface Rung extends Level {
  /** Predicted cost in units of the full model's: side² × (the tier's cost ratio). */
  cost: number;
  /** Rank by how close the output comes to the full-size network's (larger is closer). */
  fidelity: number;
}

/**
 * The ladder by fidelity: every (model, side) pair, most expensive first, keeping only those
 * that no cheaper pair beats on fidelity. `tierCost`: the tier's time over the full model's at
 * the same size (null: no tier). With a tier that costs a third, the ladder is the full model at
 * the largest size, then the tier from the largest size down: a tier at 320 px (fidelity ~288)
 * instead of the full model at ~184 px that costs the same.
 */
export function fidelityLadder(sides: readonly number[], tier: { name: string; cost: number } | null): Rung[] {
  const all: Rung[] = sides.map((side) => ({ side, tier: null, cost: side * side, fidelity: side }));
  if (tier) all.push(...sides.map((side) => ({ side, tier: tier.name, cost: side * side * tier.cost, fidelity: side * TIER_FIDELITY_SIDE })));
  all.sort((a, b) => a.cost - b.cost || a.fidelity - b.fidelity);
  const kept: Rung[] = [];
  for (const r of all) {
    const last = kept.at(-1);
    if (last && r.fidelity <= last.fidelity) continue;
    // Same cost, better picture: the better one replaces it.
    if (last && r.cost <= last.cost * (1 + 1e-9)) kept.pop();
    kept.push(r);
  }
  return kept.reverse();
}

/**
 * Paints ImageBitmaps with a style model: bitmap → [1,h,w,3] in [0,1] at the internal size →
 * network → pixels → bitmap at the input's size. Owns its canvases and the model(s).
 *
 * The governor's ladder is {@link fidelityLadder}: the full model and (when the style ships one)
 * its cheaper tier at every internal size, ordered by cost, where each step down gives up as
 * little fidelity as it can. The tier's cost is measured, not assumed: warm-up times both
 * models at the smallest size. The governor sees each rung as the side at which the full model
 * would cost the same (side·√cost ratio), so its cost model (∝ side²) holds across the tiers.
 */
export class Stylizer {
  private canvas = new OffscreenCanvas(4, 4);
  private ctx = this.canvas.getContext('2d')!;

  /** Lowers the internal resolution (then switches to the tier) while painting is slower than the camera. */
  governor: ResolutionGovernor;

  /** The "stability" option: blends with the previous output, motion-compensated. */
  readonly stabilizer: Stabilizer | null;
  private readonly post: Parameters<typeof runOnPixels>[4];

  /** The full model's sides, largest first. */
  private readonly fullSides: readonly number[];
  private readonly budgetMs: number;
  private rungs: Rung[] = [];

  constructor(
    readonly model: PaintNet,
    o: { budgetMs?: number; fixedMaxSide?: number; maxSide?: number; stability?: boolean; tier?: { name: string; model: PaintNet } } = {},
  ) {
    const st = o.stability ? new Stabilizer() : null;
    this.stabilizer = st;
    this.post = st ? (x, y) => st.apply(x, y) : undefined;
    // Owned either way (dispose() frees it); a fixed size leaves it off the ladder.
    this.tier = o.tier ?? null;
    this.fixed = Boolean(o.fixedMaxSide);
    if (o.fixedMaxSide) {
      this.budgetMs = Infinity;
      this.fullSides = [o.fixedMaxSide];
    } else {
      const all = new ResolutionGovernor().sides;
      const cap = o.maxSide ?? Infinity;
      const sides = all.filter((s) => s <= cap);
      this.budgetMs = o.budgetMs ?? DEFAULT_BUDGET_MS;
      this.fullSides = sides.length ? sides : [all[all.length - 1]!];
    }
    // Until warm-up measures the tier, it is taken to cost half the full model.
    this.governor = this.ladder(0.5);
  }

  /** The cheaper network the ladder ends with, when the style ships one. */
  readonly tier: { name: string; model: PaintNet } | null;
  private readonly fixed: boolean;

  private ladder(tierCost: number): ResolutionGovernor {
    this.rungs = fidelityLadder(this.fullSides, this.tier && !this.fixed ? { name: this.tier.name, cost: tierCost } : null);
    return new ResolutionGovernor(this.budgetMs, this.rungs.map((r) => Math.sqrt(r.cost)));
  }

  /** Where the governor has the stylizer now. */
  get level(): Level {
    const r = this.rungs[this.governor.tier]!;
    return { side: r.side, tier: r.tier };
  }

  /** The ladder the governor walks, most expensive first. */
  get ladderRungs(): readonly Level[] {
    return this.rungs.map((r) => ({ side: r.side, tier: r.tier }));
  }

  async paint(input: ImageBitmap): Promise<ImageBitmap> {
    const t0 = performance.now();
    try {
      return await this.paintLevel(input, this.level);
    } finally {
      this.governor.record(performance.now() - t0);
    }
  }

  private paintLevel(input: ImageBitmap, l: Level): Promise<ImageBitmap> {
    return this.paintAt(input, l.side, l.tier ? this.tier!.model : this.model);
  }

  /**
   * Compiles the backend's kernels and picks the starting resolution before the first real
   * frame: paints a blank w×h frame twice with each model near 256 px (the second one timed),
   * places the tier on the ladder by the measured ratio, lets the governor choose the rung that
   * should fit, and compiles that one too. A fixed size only compiles.
   */
  async warmUp(w = 640, h = 360): Promise<void> {
    const blank = await createImageBitmap(new ImageData(w, h));
    try {
      const sides = this.fullSides;
      if (this.fixed) {
        (await this.paintAt(blank, sides[0]!, this.model)).close();
        return;
      }
      // Timed near 256 px, not at the smallest size: there a frame is mostly fixed costs, and
      // cost ∝ side² from there over-predicts the larger sizes (and hides how much cheaper the
      // tier is: 0.85 of the full model at 96 px, 0.3 at 320 px, measured on WASM).
      const probe = this.probeSide;
      // The least of a few runs: one timed frame that another process interrupts would start the
      // call levels too low (and the governor climbs back only slowly: every change is visible).
      const timed = (m: PaintNet): Promise<number> => this.timedAt(blank, probe, m, WARMUP_RUNS);
      const full = await timed(this.model);
      if (this.tier) {
        const tier = await timed(this.tier.model);
        this.governor = this.ladder(Math.min(1, tier / Math.max(full, 1e-3)));
      }
      this.governor.calibrate(full, Math.min(probe, Math.max(w, h)));
      const l = this.level;
      if (l.side !== probe) (await this.paintLevel(blank, l)).close();
    } finally {
      blank.close();
      this.stabilizer?.reset();
    }
  }

  /** The side warm-up times the networks at: the ladder's side nearest 256 px. */
  private get probeSide(): number {
    return this.fullSides.reduce((a, b) => (Math.abs(b - 256) < Math.abs(a - 256) ? b : a));
  }

  /**
   * The least time (ms) of `runs` painted frames of `input` at `side`, after one untimed run;
   * fewer once the timed ones add up to WARMUP_BUDGET_MS.
   */
  private async timedAt(input: ImageBitmap, side: number, model: PaintNet, runs = 1): Promise<number> {
    (await this.paintAt(input, side, model)).close();
    let best = Infinity;
    let spent = 0;
    for (let i = 0; i < runs && spent < WARMUP_BUDGET_MS; i++) {
      const t0 = performance.now();
      (await this.paintAt(input, side, model)).close();
      const t = performance.now() - t0;
      best = Math.min(best, t);
      spent += t;
    }
    return best;
  }

  /**
   * The time of one frame at the warm-up probe size, with the network the ladder ends on (the
   * tier where there is one): what the engine compares when it chooses its WASM thread count.
   */
  async probeMs(w = 640, h = 360): Promise<number> {
    const blank = await createImageBitmap(new ImageData(w, h));
    try {
      return await this.timedAt(blank, this.probeSide, this.tier?.model ?? this.model);
    } finally {
      blank.close();
    }
  }

  private async paintAt(input: ImageBitmap, maxSide: number, model: PaintNet): Promise<ImageBitmap> {
    const W = input.width;
    const H = input.height;
    const [w, h] = internalSize(W, H, maxSide, model.inputMultiple);
    const pixels = await runOnPixels(model, input, w, h, this.post);
    const [ow, oh] = [w, h];
    if (this.canvas.width !== ow || this.canvas.height !== oh) {
      this.canvas.width = ow;
      this.canvas.height = oh;
    }
    this.ctx.putImageData(new ImageData(pixels, ow, oh), 0, 0);
    if (ow === W && oh === H) return this.canvas.transferToImageBitmap();
    return createImageBitmap(this.canvas, { resizeWidth: W, resizeHeight: H, resizeQuality: 'medium' });
  }

  dispose(): void {
    this.stabilizer?.dispose();
    this.model.dispose();
    this.tier?.model.dispose();
    this.canvas.width = 1;
    this.canvas.height = 1;
  }
}
