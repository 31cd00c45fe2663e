import { expect } from '@esm-bundle/chai';

// Guided upsampling (src/engine/ml/guided.ts): the painting's colours, the camera's edges.
type Kit = typeof import('../../src/entries/ml-testkit');
const { tf, guidedUpsample } = (await import('/build/ml-testkit.js' as string)) as Kit;
type T3 = import('@tensorflow/tfjs-core').Tensor3D;

/** An H×W×1 luminance picture: dark left of column `edge`, bright right. */
const step = (H: number, W: number, edge: number, lo = 0.1, hi = 0.9): T3 =>
  tf.tidy(() => tf.tensor3d(Array.from({ length: H * W }, (_, i) => ((i % W) < edge ? lo : hi)), [H, W, 1]));

describe('guidedUpsample', () => {
  before(async () => {
    await tf.setBackend('cpu');
  });

  it('carries the camera\'s sharp edge into the upsampled painting, with the painting\'s colours', () => {
    const H = 32, W = 64, h = 8, w = 16;
    const guide = step(H, W, 29); // the full-size edge falls inside a small pixel (29/4 = 7.25)
    const guideSmall = tf.image.resizeBilinear(guide, [h, w], false, true) as T3;
    // The painting: orange where the camera is dark, blue where it is bright, at the small size.
    const p = tf.tidy(() => {
      const t = tf.div(tf.sub(guideSmall, 0.1), 0.8); // 0..1 across the edge
      return tf.concat([tf.sub(1, tf.mul(t, 0.8)), tf.add(0.5, tf.mul(t, 0)), tf.add(0.1, tf.mul(t, 0.8))], 2) as T3;
    });
    const q = guidedUpsample(p, guideSmall, guide, 1, 1e-4);
    const bilinear = tf.image.resizeBilinear(p, [H, W], false, true) as T3;
    expect(q.shape).to.deep.equal([H, W, 3]);
    const row = (x: T3, c: number) => Array.from(tf.slice(x, [H / 2, 0, c], [1, W, 1]).dataSync());
    // Sharpness: the largest one-pixel step of the red channel along a row.
    const maxStep = (r: number[]) => Math.max(...r.slice(1).map((v, i) => Math.abs(v - r[i]!)));
    // the painting's red falls by 0.8 across the edge: guided, most of it in one full-size pixel
    const sharp = maxStep(row(q, 0));
    const soft = maxStep(row(bilinear, 0));
    expect(sharp, `guided ${sharp.toFixed(3)}, bilinear ${soft.toFixed(3)}`).to.be.greaterThan(0.55);
    expect(sharp, `guided ${sharp.toFixed(3)}, bilinear ${soft.toFixed(3)}`).to.be.greaterThan(2 * soft);
    // Colours: far from the edge they are the painting's, not the camera's grey.
    const qr = row(q, 0), qb = row(q, 2);
    expect(qr[2]!).to.be.closeTo(1, 0.05);
    expect(qb[2]!).to.be.closeTo(0.1, 0.05);
    expect(qr[W - 3]!).to.be.closeTo(0.2, 0.05);
    expect(qb[W - 3]!).to.be.closeTo(0.9, 0.05);
    tf.dispose([guide, guideSmall, p, q, bilinear]);
  });

  it('where the camera is flat, gives the painting upsampled (its strokes are not the camera\'s)', () => {
    const H = 24, W = 40, h = 6, w = 10;
    const guide = tf.fill([H, W, 1], 0.5) as T3;
    const guideSmall = tf.fill([h, w, 1], 0.5) as T3;
    const p = tf.randomUniform([h, w, 3], 0, 1, 'float32', 7) as T3;
    const q = guidedUpsample(p, guideSmall, guide, 1, 1e-3);
    // a = 0 everywhere: q is the window mean of p, upsampled; its mean colour is p's
    const mq = Array.from(tf.mean(q, [0, 1]).dataSync());
    const mp = Array.from(tf.mean(p, [0, 1]).dataSync());
    mq.forEach((v, i) => expect(v).to.be.closeTo(mp[i]!, 0.03));
    tf.dispose([guide, guideSmall, p, q]);
  });

  it('names the shapes it expected when the guides do not match', () => {
    const p = tf.zeros([4, 4, 3]) as T3;
    expect(() => guidedUpsample(p, tf.zeros([4, 5, 1]) as T3, tf.zeros([8, 8, 1]) as T3)).to.throw(/expected guides of 4x4x1/);
    expect(() => guidedUpsample(p, tf.zeros([4, 4, 1]) as T3, tf.zeros([8, 8, 3]) as T3)).to.throw(/HxWx1/);
    p.dispose();
  });

  it('keeps no tensor', () => {
    const before = tf.memory().numTensors;
    const [p, g, G] = [tf.zeros([4, 4, 3]) as T3, tf.zeros([4, 4, 1]) as T3, tf.zeros([8, 8, 1]) as T3];
    guidedUpsample(p, g, G).dispose();
    tf.dispose([p, g, G]);
    expect(tf.memory().numTensors).to.equal(before);
  });
});
