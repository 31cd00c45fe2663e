/**
 * Frames that carry a quarter-turn (`rotation` 90 or 270, as phone and tablet cameras deliver
 * them) display with their width and height swapped. `drawImage` honours rotation and flip, but
 * `createImageBitmap(frame)` in Chromium does not for quarter-turns (it returns the coded
 * orientation, blank). Everything that turns a frame into pixels goes through here, so filters
 * always see the picture the way the camera's own track would show it.
 */
export function quarterTurned(frame: VideoFrame): boolean {
  const r = (frame as VideoFrame & { rotation?: number }).rotation ?? 0;
  return r === 90 || r === 270;
}

/** The frame as an ImageBitmap in display orientation (displayWidth × displayHeight). */
export async function uprightBitmap(frame: VideoFrame, o: ImageBitmapOptions = {}): Promise<ImageBitmap> {
  if (!quarterTurned(frame)) return createImageBitmap(frame, o);
  const c = new OffscreenCanvas(frame.displayWidth, frame.displayHeight);
  c.getContext('2d')!.drawImage(frame, 0, 0, c.width, c.height);
  return o.resizeWidth || o.resizeHeight ? createImageBitmap(c, o) : c.transferToImageBitmap();
}
