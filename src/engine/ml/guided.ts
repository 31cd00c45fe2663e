import * as tf from '@tensorflow/tfjs-core';

/**
 * Guided upsampling (the fast guided filter, He & Sun 2015): the network paints a small picture
 * `p` (h×w×3); the camera's own luminance at full size (`guide`, H×W×1) and the same luminance at
 * the small size (`guideSmall`, h×w×1) carry its edges up. In each (2r+1)² window of the small
 * picture every colour channel of `p` is fitted as a·I + b on the luminance I; a and b are
 * averaged over the windows, upsampled bilinearly, and applied to the full-size luminance. Where
 * the camera is flat (its variance under `eps`) a → 0 and the output is the painting's own
 * colour; along the camera's edges the painting's colours change as sharply as the camera's
 * brightness does. Colours come from `p` alone: the camera gives only where, not what.
 */
export function guidedUpsample(p: tf.Tensor3D, guideSmall: tf.Tensor3D, guide: tf.Tensor3D, r = 2, eps = 1e-3): tf.Tensor3D {
  const [h, w] = p.shape;
  const [H, W] = guide.shape;
  if (guideSmall.shape[0] !== h || guideSmall.shape[1] !== w || guideSmall.shape[2] !== 1 || guide.shape[2] !== 1) {
    throw new Error(`guidedUpsample: expected guides of ${h}x${w}x1 and HxWx1, got ${guideSmall.shape} and ${guide.shape}`);
  }
  return tf.tidy(() => {
    const k = 2 * r + 1;
    // Mean over each window of the valid pixels ('same' average pooling counts only those).
    const box = (x: tf.Tensor3D): tf.Tensor3D => tf.avgPool(x, k, 1, 'same');
    const I = guideSmall;
    const meanI = box(I);
    const meanP = box(p);
    const covIP = tf.sub(box(tf.mul(I, p)), tf.mul(meanI, meanP));
    const varI = tf.sub(box(tf.mul(I, I)), tf.mul(meanI, meanI));
    const a = tf.div(covIP, tf.add(varI, eps));
    const b = tf.sub(meanP, tf.mul(a, meanI));
    const ab = tf.concat([box(a as tf.Tensor3D), box(b as tf.Tensor3D)], 2);
    const up = tf.image.resizeBilinear(ab, [H, W], false, true);
    const [A, B] = tf.split(up, 2, 2) as [tf.Tensor3D, tf.Tensor3D];
    return tf.add(tf.mul(A, guide), B) as tf.Tensor3D;
  });
}

/** Rec. 601 luma of an RGB picture in [0,1] (…×3 → …×1). */
export function luma(rgb: tf.Tensor3D): tf.Tensor3D {
  return tf.tidy(() => tf.sum(tf.mul(rgb, tf.tensor1d([0.299, 0.587, 0.114])), 2, true) as tf.Tensor3D);
}
