import { expect } from '@esm-bundle/chai';

// Guided upsampling: the painting's colours, the camera's edges. First the maths in tfjs (the
// reference: He & Sun's fast guided filter written with tensor ops), then the page's version
// (src/page/filters/guided.ts), which must agree with it.
type Kit = typeof import('../../src/entries/ml-testkit');
const { tf } = (await import('/build/ml-testkit.js' as string)) as Kit;
type T3 = import('@tensorflow/tfjs-core').Tensor3D;

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
function guidedUpsample(p: T3, guideSmall: T3, guide: T3, r = 2, eps = 1e-3): T3 {
  const [h, w] = p.shape;
  const [H, W] = guide.shape;
  if (guideSmall.shape[0] !== h || guideSmall.shape[1] !== w || guideSmall.shape[2] !== 1 || guide.shape[2] !== 1) {
    throw new Error(`guidedUpsample: expected guides of ${h}x${w}x1 and HxWx1, got ${guideSmall.shape} and ${guide.shape}`);
  }
  return tf.tidy(() => {
    const k = 2 * r + 1;
    // Mean over each window of the valid pixels ('same' average pooling counts only those).
    const box = (x: T3): T3 => tf.avgPool(x, k, 1, 'same');
    const I = guideSmall;
    const meanI = box(I);
    const meanP = box(p);
    const covIP = tf.sub(box(tf.mul(I, p)), tf.mul(meanI, meanP));
    const varI = tf.sub(box(tf.mul(I, I)), tf.mul(meanI, meanI));
    const a = tf.div(covIP, tf.add(varI, eps));
    const b = tf.sub(meanP, tf.mul(a, meanI));
    const ab = tf.concat([box(a as T3), box(b as T3)], 2);
    const up = tf.image.resizeBilinear(ab, [H, W], false, true);
    const [A, B] = tf.split(up, 2, 2) as [T3, T3];
    return tf.add(tf.mul(A, guide), B) as T3;
  });
}


/** An H×W×1 luminance picture: dark left of column `edge`, bright right. */
const step = (H: number, W: number, edge: number, lo = 0.1, hi = 0.9): T3 =>
  tf.tidy(() => tf.tensor3d(Array.from({ length: H * W }, (_, i) => ((i % W) < edge ? lo : hi)), [H, W, 1]));

describe('guided upsampling, the tfjs reference', () => {
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

// The page's version (src/page/filters/guided.ts): plain typed arrays, the same maths.
import { applyGuided, boxMeanInPlace, DEFAULT_FIT, GUIDE_PASSES, guidedCoefficients, guideLuma, STROKES_FIT } from '../../src/page/filters/guided';

/** An RGBA picture from a function of (x, y) giving [r, g, b] bytes. */
const rgba = (w: number, h: number, f: (x: number, y: number) => [number, number, number]): Uint8ClampedArray => {
  const a = new Uint8ClampedArray(w * h * 4);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) a.set([...f(x, y), 255], (y * w + x) * 4);
  return a;
};
/** Deterministic noise in [0, 1). */
const noise = (seed: number) => () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);

describe('page-side guided upsampling', () => {
  before(async () => {
    await tf.setBackend('cpu');
  });

  it('box means over windows clipped to the picture, as avgPool with same padding', () => {
    const w = 7, h = 5, n = 2, r = 2;
    const rnd = noise(3);
    const x = Float32Array.from({ length: w * h * n }, rnd);
    const want = tf.tidy(() => Array.from(tf.avgPool(tf.tensor3d(x, [h, w, n]), 2 * r + 1, 1, 'same').dataSync()));
    boxMeanInPlace(x, w, h, n, r);
    Array.from(x).forEach((v, i) => expect(v).to.be.closeTo(want[i]!, 1e-5));
  });

  it('takes the guide\'s luminance through GUIDE_PASSES 3×3 box means at any size, thin pictures too', () => {
    for (const [W, H] of [[37, 23], [1, 9], [9, 1], [2, 2], [1, 1]] as const) {
      const rnd = noise(W * 31 + H);
      const cam = rgba(W, H, () => [255 * rnd(), 255 * rnd(), 255 * rnd()]);
      const want = Float32Array.from({ length: W * H }, (_, i) => 0.299 * cam[i * 4]! + 0.587 * cam[i * 4 + 1]! + 0.114 * cam[i * 4 + 2]!);
      for (let p = 0; p < GUIDE_PASSES; p++) boxMeanInPlace(want, W, H, 1, 1);
      const got = guideLuma(cam, W, H);
      expect(got.length).to.equal(W * H);
      got.forEach((v, i) => expect(v, `${W}x${H} at ${i}`).to.be.closeTo(want[i]!, 1e-3));
      // Into a caller's buffer kept from an earlier, larger frame: same values, no new array.
      const kept = new Float32Array(W * H + 5).fill(-1);
      const into = guideLuma(cam, W, H, kept);
      expect(into.buffer, 'written into the buffer given').to.equal(kept.buffer);
      expect(Array.from(into)).to.deep.equal(Array.from(got));
    }
  });

  it('agrees with the engine\'s tfjs guided filter within one level', () => {
    const W = 64, H = 36, w = 16, h = 9;
    const rnd = noise(11);
    // a camera with edges and texture, its small copy (box-averaged), a painting of the small copy
    const cam = rgba(W, H, (x, y) => { const v = (x > 20 ? 200 : 40) + ((x + y) % 7) * 5 + (y > 18 ? 10 : 0); return [v, v * 0.9, v * 0.7]; });
    const small = rgba(w, h, (x, y) => {
      let s = 0;
      for (let j = 0; j < 4; j++) for (let i = 0; i < 4; i++) s += cam[((y * 4 + j) * W + x * 4 + i) * 4]!;
      const v = s / 16;
      return [v, v * 0.9, v * 0.7];
    });
    const paint = rgba(w, h, () => [255 * rnd(), 255 * rnd(), 255 * rnd()]);
    const out = new Uint8ClampedArray(W * H * 4);
    const L = guideLuma(cam, W, H);
    applyGuided(guidedCoefficients(paint, small, w, h, { r: 2, eps: 1e-3 }), L, W, H, out);
    const want = tf.tidy(() => {
      const toT = (a: Uint8ClampedArray, ww: number, hh: number) => tf.div(tf.slice(tf.tensor3d(Float32Array.from(a), [hh, ww, 4]), [0, 0, 0], [hh, ww, 3]), 255) as T3;
      const lumaOf = (a: Uint8ClampedArray, ww: number, hh: number) => tf.sum(tf.mul(toT(a, ww, hh), tf.tensor1d([0.299, 0.587, 0.114])), 2, true) as T3;
      return Array.from(tf.mul(guidedUpsample(toT(paint, w, h), lumaOf(small, w, h), tf.div(tf.tensor3d(L, [H, W, 1]), 255) as T3, 2, 1e-3), 255).dataSync());
    });
    let worst = 0;
    for (let i = 0; i < W * H; i++) for (let c = 0; c < 3; c++) worst = Math.max(worst, Math.abs(out[i * 4 + c]! - Math.min(255, Math.max(0, want[i * 3 + c]!))));
    expect(worst).to.be.at.most(1);
  });

  it('does not carry the camera\'s finest patterns, even where the painting follows the camera\'s brightness', () => {
    // The raw-only markers of the end-to-end tests: a 2-px checker (±25 or ±65 levels) on a face
    // whose brightness the painting follows (a ≈ 1 around it).
    const W = 96, H = 96, w = 24, h = 24;
    const base = (x: number, y: number) => 40 + 1.5 * x + 0.5 * y;
    const inMarker = (x: number, y: number) => x >= 36 && x < 60 && y >= 36 && y < 60;
    for (const [amp, fit] of [[25, DEFAULT_FIT], [65, DEFAULT_FIT], [25, STROKES_FIT], [65, STROKES_FIT]] as const) {
      const cam = rgba(W, H, (x, y) => { const v = base(x, y) + (inMarker(x, y) ? (Math.floor(x / 2) % 2 === Math.floor(y / 2) % 2 ? amp : -amp) : 0); return [v, v, v]; });
      const plain = rgba(W, H, (x, y) => { const v = base(x, y); return [v, v, v]; });
      const small = rgba(w, h, (x, y) => { const v = base(4 * x + 1.5, 4 * y + 1.5); return [v, v, v]; });
      const paint = rgba(w, h, (x, y) => { const v = base(4 * x + 1.5, 4 * y + 1.5); return [v, 0.5 * v, 255 - v]; });
      const coef = guidedCoefficients(paint, small, w, h, fit);
      const a = new Uint8ClampedArray(W * H * 4);
      const b = new Uint8ClampedArray(W * H * 4);
      applyGuided(coef, guideLuma(cam, W, H), W, H, a);
      applyGuided(coef, guideLuma(plain, W, H), W, H, b);
      // the marker's pattern in the output: what it adds over the same frame without it
      let worst = 0;
      for (let i = 0; i < W * H; i++) worst = Math.max(worst, Math.abs(a[i * 4]! - b[i * 4]!));
      expect(worst, `checker ±${amp}${fit.strokes ? ', strokes kept' : ''}`).to.be.at.most(Math.ceil((2 * amp) / 27) + 1);
    }
  });

  it('keeps the camera\'s edge sharper than the painting upscaled, with the painting\'s colours', () => {
    const W = 64, H = 16, w = 16, h = 4;
    const cam = rgba(W, H, (x) => (x < 29 ? [25, 25, 25] : [230, 230, 230]));
    const small = rgba(w, h, (x) => { const v = x < 7 ? 25 : x === 7 ? 25 + 0.75 * 205 : 230; return [v, v, v]; });
    // orange where dark, blue where bright
    const paint = rgba(w, h, (x) => (x < 7 ? [255, 128, 25] : x === 7 ? [102, 128, 178] : [51, 128, 230]));
    const out = new Uint8ClampedArray(W * H * 4);
    applyGuided(guidedCoefficients(paint, small, w, h, { r: 1, eps: 1e-4 }), guideLuma(cam, W, H), W, H, out);
    const red = Array.from({ length: W }, (_, x) => out[(8 * W + x) * 4]!);
    const bilinear = tf.tidy(() => Array.from(tf.slice(tf.image.resizeBilinear(tf.tensor3d(Float32Array.from(paint), [h, w, 4]), [H, W], false, true), [8, 0, 0], [1, W, 1]).dataSync()));
    // pixels the red takes to fall from 90 % to 10 % of its change
    const rise = (r: number[]) => r.filter((v) => v < 51 + 0.9 * 204 && v > 51 + 0.1 * 204).length;
    expect(rise(red), `guided ${red.join(' ')}; bilinear ${bilinear.map(Math.round).join(' ')}`).to.be.below(rise(bilinear));
    expect(rise(red)).to.be.at.most(2 * GUIDE_PASSES);
    expect(red[2]!).to.be.closeTo(255, 13);
    expect(red[W - 3]!).to.be.closeTo(51, 13);
  });

  it('with strokes kept: the painting upscaled where the camera is flat, plus a times the camera\'s detail', () => {
    // A painting with its own texture (the tier's strokes) of a camera picture with one edge.
    const W = 64, H = 16, w = 16, h = 4;
    const cam = rgba(W, H, (x) => (x < 29 ? [25, 25, 25] : [230, 230, 230]));
    const small = rgba(w, h, (x) => { const v = x < 7 ? 25 : x === 7 ? 25 + 0.75 * 205 : 230; return [v, v, v]; });
    const paint = rgba(w, h, (x, y) => [x % 2 ? 200 : 60, 40 * y, x < 7 ? 20 : 220]);
    const L = guideLuma(cam, W, H);
    const kept = new Uint8ClampedArray(W * H * 4);
    applyGuided(guidedCoefficients(paint, small, w, h, STROKES_FIT), L, W, H, kept);
    const fit = new Uint8ClampedArray(W * H * 4);
    applyGuided(guidedCoefficients(paint, small, w, h), L, W, H, fit);
    const bilinear = tf.tidy(() => Array.from(tf.image.resizeBilinear(tf.tensor3d(Float32Array.from(paint), [h, w, 4]), [H, W], false, true).dataSync()));
    // Away from the edge the output is the painting upscaled: its red stripes, its green rows.
    let worst = 0;
    for (let y = 0; y < H; y++) {
      for (const x of [...Array(20).keys(), ...Array.from({ length: 20 }, (_, i) => 40 + i)]) {
        for (const c of [0, 1]) worst = Math.max(worst, Math.abs(kept[(y * W + x) * 4 + c]! - bilinear[(y * W + x) * 4 + c]!));
      }
    }
    expect(worst).to.be.at.most(2);
    // The default fit takes the stripes away (a flat camera explains none of them).
    const swing = (o: Uint8ClampedArray) => { const r = Array.from({ length: 16 }, (_, x) => o[(8 * W + 2 + x) * 4]!); return Math.max(...r) - Math.min(...r); };
    expect(swing(kept)).to.be.above(100);
    expect(swing(fit)).to.be.below(swing(kept) / 2);
    // At the camera's edge both follow the live frame: blue rises within a few pixels.
    const blue = (o: Uint8ClampedArray) => Array.from({ length: W }, (_, x) => o[(8 * W + x) * 4 + 2]!);
    expect(blue(kept)[24]!).to.be.below(60);
    expect(blue(kept)[34]!).to.be.above(180);
  });

  it('cross-fades into what the output holds, and names the sizes it expected', () => {
    const w = 4, h = 4, W = 8, H = 8;
    const flat = rgba(w, h, () => [200, 100, 0]);
    const cam = rgba(W, H, () => [128, 128, 128]);
    const out = new Uint8ClampedArray(W * H * 4).fill(0);
    applyGuided(guidedCoefficients(flat, flat, w, h), guideLuma(cam, W, H), W, H, out, 0.25);
    expect([out[0], out[1], out[2], out[3]]).to.deep.equal([50, 25, 0, 255]);
    expect(() => applyGuided(guidedCoefficients(flat, flat, w, h), guideLuma(cam, W, H), W, H + 1, out)).to.throw(/expected a 8x9 luminance and RGBA output/);
    expect(() => guideLuma(cam, W, H + 1)).to.throw(/expected a 8x9 RGBA picture/);
    expect(() => guidedCoefficients(flat, cam, w, h + 1)).to.throw(/expected two 4x5 RGBA pictures/);
  });
});
