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

/**
 * Paints ImageBitmaps with a style model: bitmap → [1,h,w,3] in [0,1] at the internal size →
 * network → pixels → bitmap at the input's size. Owns its canvases and the model.
 */
export class Stylizer {
  private canvas = new OffscreenCanvas(4, 4);
  private ctx = this.canvas.getContext('2d')!;

  /** Lowers the internal resolution while painting is slower than the camera. */
  readonly governor: ResolutionGovernor;

  /** The "stability" option: blends with the previous output, motion-compensated. */
  readonly stabilizer: Stabilizer | null;
  private readonly post: Parameters<typeof runOnPixels>[4];

  constructor(
    readonly model: StyleModel,
    o: { budgetMs?: number; fixedMaxSide?: number; maxSide?: number; stability?: boolean } = {},
  ) {
    const st = o.stability ? new Stabilizer() : null;
    this.stabilizer = st;
    this.post = st ? (x, y) => st.apply(x, y) : undefined;
    if (o.fixedMaxSide) this.governor = new ResolutionGovernor(Infinity, [o.fixedMaxSide]);
    else {
      const all = new ResolutionGovernor().sides;
      const cap = o.maxSide ?? Infinity;
      const sides = all.filter((s) => s <= cap);
      this.governor = new ResolutionGovernor(o.budgetMs ?? DEFAULT_BUDGET_MS, sides.length ? sides : [all[all.length - 1]!]);
    }
  }

  async paint(input: ImageBitmap): Promise<ImageBitmap> {
    const t0 = performance.now();
    try {
      return await this.paintAt(input, this.governor.maxSide);
    } finally {
      this.governor.record(performance.now() - t0);
    }
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
      const sides = this.governor.sides;
      if (sides.length === 1) {
        (await this.paintAt(blank, sides[0]!)).close();
        return;
      }
      const smallest = sides[sides.length - 1]!;
      (await this.paintAt(blank, smallest)).close();
      const t0 = performance.now();
      (await this.paintAt(blank, smallest)).close();
      this.governor.calibrate(performance.now() - t0, Math.min(smallest, Math.max(w, h)));
      if (this.governor.maxSide !== smallest) (await this.paintAt(blank, this.governor.maxSide)).close();
    } finally {
      blank.close();
      this.stabilizer?.reset();
    }
  }

  private async paintAt(input: ImageBitmap, maxSide: number): Promise<ImageBitmap> {
    const W = input.width;
    const H = input.height;
    const [w, h] = internalSize(W, H, maxSide, this.model.inputMultiple);
    const pixels = await runOnPixels(this.model, input, w, h, this.post);
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
    this.canvas.width = 1;
    this.canvas.height = 1;
  }
}
