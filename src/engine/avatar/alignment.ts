/**
 * How a face crop is aligned, the single definition shared by run time (from BlazeFace's eye
 * keypoints) and training (training/brushcam_anime/align.py, from the London set's pupils):
 * a square centred below the eyes' midpoint, turned by the eyes' roll, its side proportional
 * to the distance between the eyes. The constants frame a portrait like the selfie2anime sets
 * (forehead to chin, some hair).
 */
export const CROP_SIDE_PER_EYE_DISTANCE = 3.2;
/** Crop centre below the eyes' midpoint, in eye distances, along the face's own vertical. */
export const CROP_CENTRE_BELOW_EYES = 0.2;

export interface Point {
  x: number;
  y: number;
}

/** A square crop of the frame: centre and side in frame pixels, roll in radians (clockwise). */
export interface CropBox {
  cx: number;
  cy: number;
  size: number;
  roll: number;
}

/** The aligned crop for two eye positions (either order: they are sorted by x). */
export function cropFromEyes(a: Point, b: Point): CropBox {
  const [l, r] = a.x <= b.x ? [a, b] : [b, a];
  const dx = r.x - l.x;
  const dy = r.y - l.y;
  const d = Math.hypot(dx, dy);
  const roll = Math.atan2(dy, dx);
  // Down the face: the eyes' direction turned by +90° (image y grows downwards).
  const down = { x: -Math.sin(roll), y: Math.cos(roll) };
  return {
    cx: (l.x + r.x) / 2 + down.x * CROP_CENTRE_BELOW_EYES * d,
    cy: (l.y + r.y) / 2 + down.y * CROP_CENTRE_BELOW_EYES * d,
    size: CROP_SIDE_PER_EYE_DISTANCE * d,
    roll,
  };
}
