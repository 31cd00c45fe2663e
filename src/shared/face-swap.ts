/**
 * Face swap's composition, drawn the same way wherever it runs: in the engine (src/engine/avatar/compositor.ts)
 * or on the page, which pastes the engine's avatar into the camera frame itself so whole frames need
 * not travel to the engine and back (src/page/filters/remote.ts). Canvas 2D only.
 */

/** Where the avatar goes: the tracked crop (frame pixels), its roll, and how far it has faded in. */
export interface FacePlace {
  cx: number;
  cy: number;
  size: number;
  roll: number;
  /** 1: the avatar; below 1 (fading in or out) it is drawn over the blurred frame at this strength. */
  alpha: number;
}

/** Background blur: downscale by this factor and back (cheap, strong, the same on every backend). */
export const BLUR_FACTOR = 32;
const MID_FACTOR = 4;

function ctx2d(c: OffscreenCanvas): OffscreenCanvasRenderingContext2D {
  const x = c.getContext('2d');
  if (!x) throw new Error('no 2D canvas context here');
  return x;
}

/** `c` resized to (at least 2×2, rounded) w×h; its context set to high-quality smoothing. */
function smoothed(c: OffscreenCanvas, w: number, h: number): OffscreenCanvasRenderingContext2D {
  const cw = Math.max(2, Math.round(w));
  const ch = Math.max(2, Math.round(h));
  if (c.width !== cw || c.height !== ch) {
    c.width = cw;
    c.height = ch;
  }
  const x = ctx2d(c);
  x.imageSmoothingEnabled = true;
  x.imageSmoothingQuality = 'high';
  return x;
}

/** Draws frames blurred (1/BLUR_FACTOR and back); owns its two small canvases. */
export class FrameBlur {
  private readonly small = new OffscreenCanvas(2, 2);
  private readonly mid = new OffscreenCanvas(2, 2);

  /** `frame` (w×h) blurred over the whole of `x`'s w×h. */
  draw(x: OffscreenCanvasRenderingContext2D, frame: CanvasImageSource, w: number, h: number): void {
    // Down to 1/BLUR_FACTOR, then back up in two steps: smooth (bicubic) to 1/MID_FACTOR, where it
    // is cheap, then bilinear to full size, where bicubic from the tiny image costs about 20 ms a
    // 1280×720 frame on the CPU.
    const s = smoothed(this.small, w / BLUR_FACTOR, h / BLUR_FACTOR);
    s.drawImage(frame, 0, 0, this.small.width, this.small.height);
    const m = smoothed(this.mid, w / MID_FACTOR, h / MID_FACTOR);
    m.drawImage(this.small, 0, 0, this.mid.width, this.mid.height);
    x.imageSmoothingEnabled = true;
    x.imageSmoothingQuality = 'low';
    x.drawImage(this.mid, 0, 0, w, h);
  }

  dispose(): void {
    for (const c of [this.small, this.mid]) {
      c.width = 1;
      c.height = 1;
    }
  }
}

/**
 * Face swap into `out` (sized w×h here): the frame with the feathered avatar `patch` at `place`
 * (its coordinates times `k`: the page pastes at the camera's size what the engine placed on a
 * smaller copy). Without a place the frame is only blurred; while fading (alpha below 1) the swap
 * is drawn on `layer` at full strength and faded over the blurred frame, so the raw face is never
 * more visible than the avatar's own feathered rim lets it be.
 */
export function composeFaceSwap(
  out: OffscreenCanvas, layer: OffscreenCanvas, blur: FrameBlur,
  frame: CanvasImageSource, w: number, h: number,
  patch: CanvasImageSource | null, place: FacePlace | null, k = 1,
): void {
  for (const c of [out, layer]) {
    if (c === layer && (!place || place.alpha >= 1)) continue;
    if (c.width !== w || c.height !== h) {
      c.width = w;
      c.height = h;
    }
  }
  const x = ctx2d(out);
  if (!patch || !place || place.alpha <= 0) {
    blur.draw(x, frame, w, h);
    return;
  }
  const target = place.alpha < 1 ? layer : out;
  const l = ctx2d(target);
  l.drawImage(frame, 0, 0, w, h);
  l.save();
  l.imageSmoothingEnabled = true;
  l.imageSmoothingQuality = 'medium';
  l.translate(place.cx * k, place.cy * k);
  l.rotate(place.roll);
  l.drawImage(patch, (-place.size * k) / 2, (-place.size * k) / 2, place.size * k, place.size * k);
  l.restore();
  if (target !== out) {
    blur.draw(x, frame, w, h);
    x.globalAlpha = place.alpha;
    x.drawImage(layer, 0, 0);
    x.globalAlpha = 1;
  }
}
