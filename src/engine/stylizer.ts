import { runOnPixels, type StyleModel } from '../ml/style-model';
import { ResolutionGovernor } from './governor';

/** Largest internal size the stylizer runs at by default (long side), before upscaling. */
export const DEFAULT_MAX_SIDE = 640;

/** Rounds an output size down to the internal size: long side ≤ maxSide, both multiples of 4. */
export function internalSize(w: number, h: number, maxSide = DEFAULT_MAX_SIDE): [number, number] {
  const s = Math.min(1, maxSide / Math.max(w, h));
  return [Math.max(4, Math.round((w * s) / 4) * 4), Math.max(4, Math.round((h * s) / 4) * 4)];
}

/**
 * Paints ImageBitmaps with a style model: bitmap → [1,h,w,3] in [0,1] at the internal size →
 * network → pixels → bitmap at the input's size. Owns its canvases and the model.
 */
export class Stylizer {
  private canvas = new OffscreenCanvas(4, 4);
  private ctx = this.canvas.getContext('2d')!;

  /** Lowers the internal resolution while painting is slower than the camera. */
  readonly governor: ResolutionGovernor;

  constructor(readonly model: StyleModel, o: { budgetMs?: number; fixedMaxSide?: number } = {}) {
    this.governor = o.fixedMaxSide
      ? new ResolutionGovernor(Infinity, [o.fixedMaxSide])
      : new ResolutionGovernor(o.budgetMs ?? 1000 / 30);
  }

  async paint(input: ImageBitmap): Promise<ImageBitmap> {
    const t0 = performance.now();
    try {
      return await this.paintAt(input, this.governor.maxSide);
    } finally {
      this.governor.record(performance.now() - t0);
    }
  }

  private async paintAt(input: ImageBitmap, maxSide: number): Promise<ImageBitmap> {
    const W = input.width;
    const H = input.height;
    const [w, h] = internalSize(W, H, maxSide);
    const pixels = await runOnPixels(this.model, input, w, h);
    if (this.canvas.width !== w || this.canvas.height !== h) {
      this.canvas.width = w;
      this.canvas.height = h;
    }
    this.ctx.putImageData(new ImageData(pixels, w, h), 0, 0);
    if (w === W && h === H) return this.canvas.transferToImageBitmap();
    return createImageBitmap(this.canvas, { resizeWidth: W, resizeHeight: H, resizeQuality: 'medium' });
  }

  dispose(): void {
    this.model.dispose();
    this.canvas.width = 1;
    this.canvas.height = 1;
  }
}
