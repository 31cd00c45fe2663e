import { expect } from '@esm-bundle/chai';

// The "stability" option of painting styles (src/engine/ml/stabilizer.ts) against its PyTorch reference
// (training/brushcam_train/stability.py, which training/eval_temporal.py measures), and what it
// must do on its own: calm a shimmering output, follow motion, never ghost across a cut, start
// over on a new size, keep no tensor it should not.
type Kit = typeof import('../../src/entries/ml-testkit');
const { tf, setWasmPaths, Stabilizer, DISPLACEMENTS, motionBlock } = (await import('/build/ml-testkit.js' as string)) as Kit;
type T4 = import('@tensorflow/tfjs-core').Tensor4D;
setWasmPaths('/node_modules/@tensorflow/tfjs-backend-wasm/dist/');

interface Parity {
  h: number; w: number; strength: number; sigma: number; motion_side: number; radius: number;
  x0: string; y0: string; x1: string; y1: string; out: string;
}

const bytes = (b64: string): Uint8Array => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
const image = (b64: string, h: number, w: number): T4 =>
  tf.tidy(() => tf.div(tf.tensor4d(Float32Array.from(bytes(b64)), [1, h, w, 3]), 255) as T4);

/** Deterministic [1,h,w,3] pattern in [0,1], shifted by (oy, ox) pixels. */
function pattern(h: number, w: number, oy = 0, ox = 0, seed = 0): T4 {
  const a = new Float32Array(h * w * 3);
  for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) for (let c = 0; c < 3; c++) {
    const y = i - oy, x = j - ox;
    a[(i * w + j) * 3 + c] = 0.5 + 0.4 * Math.sin(0.31 * y * (c + 1) + 0.17 * x + seed) * Math.cos(0.05 * x - 0.4 * c + seed);
  }
  return tf.tensor4d(a, [1, h, w, 3]);
}

/** Deterministic noise in [-amp, amp]: the shimmer a network adds to each frame. */
function noise(h: number, w: number, amp: number, seed: number): T4 {
  const a = new Float32Array(h * w * 3);
  let s = seed * 7919 + 1;
  for (let i = 0; i < a.length; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    a[i] = (s / 2147483648 * 2 - 1) * amp;
  }
  return tf.tensor4d(a, [1, h, w, 3]);
}

const meanAbs = async (a: T4, b: T4): Promise<number> => {
  const d = tf.tidy(() => tf.mean(tf.abs(tf.sub(a, b))));
  const v = (await d.data())[0]!;
  d.dispose();
  return v;
};

describe('Stabilizer (the "stability" option of painting styles)', () => {
  it('uses the reference\'s constants', async () => {
    const p = (await (await fetch('/test/fixtures/stability-parity.json')).json()) as Parity;
    const st = new Stabilizer();
    expect([st.strength, st.sigma]).to.deep.equal([p.strength, p.sigma]);
    expect(DISPLACEMENTS.length).to.equal((2 * p.radius + 1) ** 2);
    expect(DISPLACEMENTS[0]).to.deep.equal([0, 0]);
    expect(motionBlock(p.h, p.w)).to.equal(Math.max(1, Math.round(Math.max(p.h, p.w) / p.motion_side)));
    expect(motionBlock(p.h, p.w), 'the fixture exercises block averaging').to.be.greaterThan(1);
  });

  for (const backend of ['wasm', 'webgl', 'webgpu'] as const) {
    it(`matches the PyTorch reference on two frames on ${backend}`, async function () {
      this.timeout(60_000);
      expect(await tf.setBackend(backend)).to.equal(true);
      const p = (await (await fetch('/test/fixtures/stability-parity.json')).json()) as Parity;
      const before = tf.memory().numTensors;
      const [x0, y0, x1, y1] = [p.x0, p.y0, p.x1, p.y1].map((b) => image(b, p.h, p.w)) as [T4, T4, T4, T4];
      const want = tf.tensor4d(new Float32Array(bytes(p.out).buffer), [1, p.h, p.w, 3]);
      const st = new Stabilizer();
      const first = st.apply(x0, y0);
      expect(await meanAbs(first, y0), 'the first frame passes through').to.equal(0);
      const got = st.apply(x1, y1);
      const d = tf.tidy(() => tf.abs(tf.sub(got, want)));
      const diffs = (await d.data()) as Float32Array;
      const max = diffs.reduce((m, v) => Math.max(m, v), 0);
      // The output really differs from the new frame: the test checks the blend, not a passthrough.
      expect(await meanAbs(want, y1)).to.be.greaterThan(1e-3);
      expect(max, `max |tfjs - pytorch| on ${backend}`).to.be.below(1e-4);
      tf.dispose([x0, y0, x1, y1, want, first, got, d]);
      st.dispose();
      expect(tf.memory().numTensors, 'tensors left after dispose').to.equal(before);
    });
  }

  it('calms a shimmering output of a still scene, and keeps a constant number of tensors', async function () {
    this.timeout(60_000);
    await tf.setBackend('wasm');
    const [h, w] = [48, 64];
    const x = pattern(h, w);
    const clean = pattern(h, w, 0, 0, 1);
    const st = new Stabilizer();
    let rawChange = 0, stableChange = 0;
    let prevRaw: T4 | null = null, prevOut: T4 | null = null;
    const counts: number[] = [];
    for (let t = 0; t < 8; t++) {
      const n = noise(h, w, 0.08, t);
      const y = tf.tidy(() => tf.clipByValue(tf.add(clean, n), 0, 1) as T4);
      n.dispose();
      const out = st.apply(x, y);
      if (prevRaw && prevOut && t >= 3) {
        rawChange += await meanAbs(y, prevRaw);
        stableChange += await meanAbs(out, prevOut);
      }
      tf.dispose([prevRaw, prevOut].filter((v): v is T4 => v !== null));
      prevRaw = y;
      prevOut = out;
      counts.push(tf.memory().numTensors);
    }
    tf.dispose([x, clean, prevRaw!, prevOut!]);
    st.dispose();
    expect(stableChange, `frame-to-frame change: stabilised ${stableChange.toFixed(4)} vs raw ${rawChange.toFixed(4)}`)
      .to.be.below(0.6 * rawChange);
    expect(new Set(counts.slice(2)).size, `tensor count per frame ${counts.join(' ')}`).to.equal(1);
  });

  it('follows motion: the previous output is warped, not smeared', async () => {
    await tf.setBackend('wasm');
    const [h, w] = [48, 64];
    // Output = input (a network that only copies): the content moves by (1, 2) px a frame.
    const st = new Stabilizer(0.9);
    const f0 = pattern(h, w, 0, 0);
    const f1 = pattern(h, w, 1, 2);
    st.apply(f0, f0).dispose();
    const out = st.apply(f1, f1);
    // With the motion found, the warped previous output equals the new one away from the edges.
    const inner = (t: T4): T4 => tf.slice(t, [0, 4, 4, 0], [1, h - 8, w - 8, 3]);
    const [a, b] = [inner(out), inner(f1)];
    expect(await meanAbs(a, b)).to.be.below(0.01);
    // A blend without motion compensation (the previous frame where it was) would be far off.
    const smeared = tf.tidy(() => tf.add(tf.mul(0.9, f0), tf.mul(0.1, f1)) as T4);
    const s = inner(smeared);
    expect(await meanAbs(s, b)).to.be.above(0.05);
    tf.dispose([f0, f1, out, a, b, smeared, s]);
    st.dispose();
  });

  it('takes the new frame after a cut, and starts over on a new size', async () => {
    await tf.setBackend('wasm');
    const st = new Stabilizer(0.9);
    const a = pattern(48, 64, 0, 0, 0);
    const b = tf.tidy(() => tf.sub(1, pattern(48, 64, 0, 0, 2.5)) as T4);
    st.apply(a, a).dispose();
    const cut = st.apply(b, b);
    // Chance matches between unrelated pictures may keep a little of the old one, within the
    // new frame's local range: a tenth of what a blind blend would keep at most.
    const jump = await meanAbs(a, b);
    expect(jump).to.be.above(0.2);
    expect(await meanAbs(cut, b), 'after a cut').to.be.below(0.1 * 0.9 * jump);
    const c = pattern(40, 72);
    const resized = st.apply(c, c);
    expect(await meanAbs(resized, c), 'a new size passes through').to.equal(0);
    expect(() => st.apply(a, c)).to.throw(/differ in size/);
    tf.dispose([a, b, c, cut, resized]);
    st.dispose();
    expect(() => new Stabilizer(1.5)).to.throw(/strength/);
  });

  it('passes tiny frames through unchanged', async () => {
    await tf.setBackend('wasm');
    const st = new Stabilizer();
    const x = pattern(2, 3);
    for (let i = 0; i < 2; i++) {
      const out = st.apply(x, x);
      expect(await meanAbs(out, x)).to.equal(0);
      out.dispose();
    }
    x.dispose();
    st.dispose();
  });
});
