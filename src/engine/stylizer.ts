import { Stabilizer } from '../ml/stabilizer';
import { runOnPixels, type StyleModel } from '../ml/style-model';
import { ResolutionGovernor } from './governor';
import { internalSize } from './sizes';

/**
 * Engine-side time per frame that keeps a 30-fps camera's rate: a 30 fps frame interval less
 * a fifth for the page side (picture in and out, messages).
 */
export const DEFAULT_BUDGET_MS = 0.8 * (1000 / 30);

export { DEFAULT_MAX_SIDE, internalSize } from './sizes';

/** What the stylizer runs at one step of the governor's ladder. */
export interface Level {
  /** Long side of the internal picture. */
  side: number;
  /** The tier's name ('tiny'), or null for the full model. */
  tier: string | null;
}

/**
 * Paints ImageBitmaps with a style model: bitmap → [1,h,w,3] in [0,1] at the internal size →
 * network → pixels → bitmap at the input's size. Owns its canvases and the model(s).
 *
 * The governor's ladder: the full model at every internal size from the largest down to the
 * smallest, then (when the style ships one) the cheaper tier at the smallest size. The tier's
 * place on the ladder is measured, not assumed: warm-up times both models at the smallest size
 * and gives the tier the side at which the full model would cost what it costs
 * (side·√(tier ms / full ms)), so the governor's cost model (∝ side²) holds across the switch.
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

  constructor(
    readonly model: StyleModel,
    o: { budgetMs?: number; fixedMaxSide?: number; maxSide?: number; stability?: boolean; tier?: { name: string; model: StyleModel } } = {},
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
    // Until warm-up measures the tier, it is placed as if it cost half the full model.
    this.governor = this.ladder(Math.SQRT1_2);
  }

  /** The cheaper network the ladder ends with, when the style ships one. */
  readonly tier: { name: string; model: StyleModel } | null;
  private readonly fixed: boolean;

  private ladder(tierSideFactor: number): ResolutionGovernor {
    const smallest = this.fullSides[this.fullSides.length - 1]!;
    const sides = this.tier && !this.fixed ? [...this.fullSides, Math.max(1, Math.min(smallest - 1, Math.round(smallest * tierSideFactor)))] : this.fullSides;
    return new ResolutionGovernor(this.budgetMs, sides);
  }

  /** Where the governor has the stylizer now. */
  get level(): Level {
    const i = this.governor.tier;
    if (i < this.fullSides.length) return { side: this.fullSides[i]!, tier: null };
    return { side: this.fullSides[this.fullSides.length - 1]!, tier: this.tier!.name };
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
   * frame: paints a blank w×h frame twice at the smallest tier (the second one timed), lets the
   * governor choose the tier that should fit, and compiles that tier too. A fixed size only
   * compiles.
   */
  async warmUp(w = 640, h = 360): Promise<void> {
    const blank = await createImageBitmap(new ImageData(w, h));
    try {
      const sides = this.fullSides;
      if (this.fixed) {
        (await this.paintAt(blank, sides[0]!, this.model)).close();
        return;
      }
      const smallest = sides[sides.length - 1]!;
      const timed = async (m: StyleModel): Promise<number> => {
        (await this.paintAt(blank, smallest, m)).close();
        const t0 = performance.now();
        (await this.paintAt(blank, smallest, m)).close();
        return performance.now() - t0;
      };
      const full = await timed(this.model);
      if (this.tier) {
        const tier = await timed(this.tier.model);
        this.governor = this.ladder(Math.sqrt(Math.min(1, tier / Math.max(full, 1e-3))));
      }
      this.governor.calibrate(full, Math.min(smallest, Math.max(w, h)));
      const l = this.level;
      if (l.tier === null && l.side !== smallest) (await this.paintLevel(blank, l)).close();
    } finally {
      blank.close();
      this.stabilizer?.reset();
    }
  }

  private async paintAt(input: ImageBitmap, maxSide: number, model: StyleModel): Promise<ImageBitmap> {
    const W = input.width;
    const H = input.height;
    const [w, h] = internalSize(W, H, maxSide, model.inputMultiple);
    const pixels = await runOnPixels(model, input, w, h, this.post);
    if (this.canvas.width !== w || this.canvas.height !== h) {
      this.canvas.width = w;
      this.canvas.height = h;
    }
    this.ctx.putImageData(new ImageData(pixels, w, h), 0, 0);
    if (w === W && h === H) return this.canvas.transferToImageBitmap();
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
