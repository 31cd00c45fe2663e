import { expect } from '@esm-bundle/chai';

// tfjs as bundled by `npm run build` (its packages carry CommonJS parts only rollup resolves).
type Kit = typeof import('../../src/entries/ml-testkit');
const kitUrl = '/build/ml-testkit.js';
const { tf, setWasmPaths, PaintNet, INSTANCE_NORM_KERNEL, instanceNorm, instanceNormComposite, hasFusedInstanceNorm, parseModelsManifest } = (await import(kitUrl)) as Kit;

setWasmPaths('/node_modules/@tensorflow/tfjs-backend-wasm/dist/');

/** Seeded values with a per-channel offset and spread, as activations have. */
function activations(shape: [number, number, number, number], seed: number): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const c = shape[3];
  const out = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 16807) % 2147483647;
    const k = i % c;
    out[i] = (s / 2147483647 - 0.5) * (0.5 + k) + (k % 3) - 1;
  }
  return out;
}

/** Plain-JS instance norm in float64: the reference both tfjs paths are held to. */
function reference(x: Float32Array, [n, h, w, c]: number[], g: Float32Array, b: Float32Array, eps: number, relu: boolean): Float64Array {
  const y = new Float64Array(x.length);
  for (let s = 0; s < n!; s++) {
    for (let k = 0; k < c!; k++) {
      let sum = 0;
      let sq = 0;
      for (let p = 0; p < h! * w!; p++) {
        const v = x[(s * h! * w! + p) * c! + k]!;
        sum += v;
        sq += v * v;
      }
      const mean = sum / (h! * w!);
      const inv = 1 / Math.sqrt(sq / (h! * w!) - mean * mean + eps);
      for (let p = 0; p < h! * w!; p++) {
        const i = (s * h! * w! + p) * c! + k;
        const v = (x[i]! - mean) * inv * g[k]! + b[k]!;
        y[i] = relu ? Math.max(0, v) : v;
      }
    }
  }
  return y;
}

const BACKENDS = ['wasm', 'webgl', 'webgpu', 'cpu'];

describe('instance norm: one fused kernel per backend', () => {
  for (const backend of BACKENDS) {
    it(`matches the float64 reference and the composite on ${backend}, with and without ReLU, odd sizes included`, async function () {
      this.timeout(120_000);
      expect(await tf.setBackend(backend), backend).to.equal(true);
      await tf.ready();
      // The GPU and WASM backends have the fused kernel; cpu falls back to the composite.
      expect(hasFusedInstanceNorm(), `fused kernel on ${backend}`).to.equal(backend !== 'cpu');
      for (const shape of [[1, 7, 13, 5], [1, 24, 40, 16], [2, 6, 9, 3]] as [number, number, number, number][]) {
        const c = shape[3];
        const xv = activations(shape, 11 + c);
        const gv = Float32Array.from({ length: c }, (_, k) => 0.5 + 0.3 * k);
        const bv = Float32Array.from({ length: c }, (_, k) => 0.2 * k - 0.4);
        for (const relu of [false, true]) {
          const want = reference(xv, shape, gv, bv, 1e-5, relu);
          const before = tf.memory().numTensors;
          const [fused, composite] = tf.tidy(() => {
            const x = tf.tensor4d(xv, shape);
            const g = tf.tensor1d(gv);
            const b = tf.tensor1d(bv);
            return [instanceNorm(x, g, b, 1e-5, relu), instanceNormComposite(x, g, b, 1e-5, relu)];
          });
          const got = await fused.data();
          const comp = await composite.data();
          fused.dispose();
          composite.dispose();
          expect(tf.memory().numTensors, 'tensors left behind').to.equal(before);
          let d = 0;
          let dc = 0;
          for (let i = 0; i < want.length; i++) {
            d = Math.max(d, Math.abs(got[i]! - want[i]!));
            dc = Math.max(dc, Math.abs(comp[i]! - want[i]!));
          }
          expect(d, `${backend} ${shape} relu=${relu}: fused vs reference`).to.be.below(1e-4);
          expect(dc, `${backend} ${shape} relu=${relu}: composite vs reference`).to.be.below(1e-4);
        }
      }
      await tf.setBackend('wasm');
    });
  }

  it('a shipped style network runs one kernel per norm on WASM: no pools, squares or rsqrt left', async () => {
    await tf.setBackend('wasm');
    const m = parseModelsManifest(await (await fetch('/models/manifest.json')).json());
    const style = m.models.find((e) => e.kind === 'style' && e.folder)!;
    const model = await PaintNet.load(`/models/${style.folder}/`);
    const norms = model.json.ops.filter((o) => o.op === 'instance_norm').length;
    const x = tf.randomUniform([1, 32, 48, 3]) as import('@tensorflow/tfjs-core').Tensor4D;
    const prof = await tf.profile(async () => {
      const y = model.run(x);
      await y.data();
      y.dispose();
    });
    x.dispose();
    model.dispose();
    const names = prof.kernels.map((k) => k.name);
    expect(names.filter((n) => n === INSTANCE_NORM_KERNEL).length, 'fused norms').to.equal(norms);
    for (const gone of ['AvgPool', 'Square', 'Rsqrt']) expect(names, gone).to.not.include(gone);
    // ...and the norm's ReLU is inside the kernel: only the ReLUs after other ops remain.
    const relusAfterNorm = model.json.ops.filter((o, i, all) => o.op === 'relu' && all[i - 1]?.op === 'instance_norm').length;
    const relus = model.json.ops.filter((o) => o.op === 'relu').length;
    expect(names.filter((n) => n === 'Relu').length).to.equal(relus - relusAfterNorm);
  });
});
