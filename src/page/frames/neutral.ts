/**
 * Frames shown instead of the camera when a filter is on but cannot produce output:
 * the last good output for a while, then a neutral frame that keeps only the scene's
 * average colours (the frame reduced to a few blocks and smoothly enlarged), so that
 * nothing recognisable of the raw camera is ever sent.
 */
export class NeutralFrames {
  private small: OffscreenCanvas | null = null;
  private big: OffscreenCanvas | null = null;

  /**
   * A new frame of the given size and timestamp showing only the average colours of
   * `source` (only read), or mid-grey without a source.
   */
  make(like: { timestamp: number; width: number; height: number }, source: CanvasImageSource | VideoFrame | null): VideoFrame {
    const w = like.width;
    const h = like.height;
    const sw = 8;
    const sh = Math.max(1, Math.round((8 * h) / Math.max(1, w)));
    if (!this.small) this.small = new OffscreenCanvas(sw, sh);
    if (this.small.width !== sw || this.small.height !== sh) {
      this.small.width = sw;
      this.small.height = sh;
    }
    if (!this.big) this.big = new OffscreenCanvas(w, h);
    if (this.big.width !== w || this.big.height !== h) {
      this.big.width = w;
      this.big.height = h;
    }
    const s = this.small.getContext('2d', { alpha: false })!;
    s.imageSmoothingEnabled = true;
    s.imageSmoothingQuality = 'low';
    if (source) s.drawImage(source as CanvasImageSource, 0, 0, sw, sh);
    else {
      s.fillStyle = '#808080';
      s.fillRect(0, 0, sw, sh);
    }
    const b = this.big.getContext('2d', { alpha: false })!;
    b.imageSmoothingEnabled = true;
    b.imageSmoothingQuality = 'high';
    b.drawImage(this.small, 0, 0, w, h);
    return new VideoFrame(this.big, { timestamp: like.timestamp, alpha: 'discard' });
  }

  dispose(): void {
    this.small = null;
    this.big = null;
  }
}
