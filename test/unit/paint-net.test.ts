import { expect } from '@esm-bundle/chai';
import type { PaintNetJson } from '../../src/engine/ml/paint-net';

// tfjs as bundled by `npm run build` (its packages carry CommonJS parts only rollup resolves).
type Kit = typeof import('../../src/entries/ml-testkit');
const kitUrl = '/build/ml-testkit.js';
const { tf, setWasmPaths, internalSize, ModelFormatError, PaintNet, Stylizer, fidelityLadder, parseModelsManifest, styleFlops, referenceReCoNet, WARMUP_RUNS, WARMUP_BUDGET_MS } = (await import(kitUrl)) as Kit;
type tfTypes = typeof import('@tensorflow/tfjs-core');
declare namespace tf {
  type Tensor4D = import('@tensorflow/tfjs-core').Tensor4D;
}
void (0 as unknown as tfTypes);

setWasmPaths('/node_modules/@tensorflow/tfjs-backend-wasm/dist/');

interface Parity { shape: [number, number, number, number]; tolerance: number; x: number[]; y: number[] }

/** NCHW (PyTorch) → NHWC (tfjs). */
function toNhwc(data: number[], [n, c, h, w]: number[]): tf.Tensor4D {
  return tf.tidy(() => tf.transpose(tf.tensor4d(data, [n!, c!, h!, w!]), [0, 2, 3, 1]) as tf.Tensor4D);
}

async function styleFolders(): Promise<{ id: string; url: string }[]> {
  const m = parseModelsManifest(await (await fetch('/models/manifest.json')).json());
  const styles = m.models.filter((e) => e.kind === 'style' && e.folder);
  // Each style's cheaper tiers (models/style/<id>/<tier>/) are shipped networks too: same checks.
  return [...styles.map((e) => ({ id: e.id, url: `/models/${e.folder}/` })),
    ...styles.flatMap((e) => (e.tiers ?? []).map((t) => ({ id: `${e.id}/${t.id}`, url: `/models/${t.folder}/` })))];
}

/** A small network in the exported format with seeded weights: every op kind once. */
function tinyModel(): { json: PaintNetJson; bin: ArrayBuffer } {
  const weights: { name: string; shape: number[] }[] = [
    { name: 'c1.w', shape: [4, 3, 3, 3] }, { name: 'n1.w', shape: [4] }, { name: 'n1.b', shape: [4] },
    { name: 'd2.w', shape: [4, 1, 3, 3] }, { name: 'p2.w', shape: [6, 4, 1, 1] }, { name: 'p2.b', shape: [6] },
    { name: 'c3.w', shape: [6, 6, 3, 3] }, { name: 'c4.w', shape: [3, 6, 3, 3] }, { name: 'c4.b', shape: [3] },
  ];
  const total = weights.reduce((a, w) => a + w.shape.reduce((x, y) => x * y, 1), 0);
  const data = new Float32Array(total);
  let s = 7;
  for (let i = 0; i < total; i++) {
    s = (s * 16807) % 2147483647;
    data[i] = (s / 2147483647 - 0.5) * 0.8;
  }
  const json: PaintNetJson = {
    format: 'brushcam-paintnet', version: 1, id: 'tiny', arch: { name: 'tiny' }, layout: 'OIHW',
    ops: [
      { op: 'conv2d', weight: 'c1.w', bias: null, kernel: 3, stride: 1, pad: 1 },
      { op: 'instance_norm', weight: 'n1.w', bias: 'n1.b', eps: 1e-5 },
      { op: 'relu' },
      { op: 'depthwise_conv2d', weight: 'd2.w', bias: null, kernel: 3, stride: 2, pad: 1 },
      { op: 'conv2d', weight: 'p2.w', bias: 'p2.b', kernel: 1, stride: 1, pad: 0 },
      { op: 'save', name: 'r' },
      { op: 'conv2d', weight: 'c3.w', bias: null, kernel: 3, stride: 1, pad: 1 },
      { op: 'add', name: 'r' },
      { op: 'upsample_nearest' },
      { op: 'conv2d', weight: 'c4.w', bias: 'c4.b', kernel: 3, stride: 1, pad: 1 },
      { op: 'sigmoid' },
    ],
    weightsManifest: [{ paths: ['weights.bin'], weights: weights.map((w) => ({ ...w, dtype: 'float32' as const })) }],
  };
  return { json, bin: data.buffer };
}

const fakeFetch = (files: Record<string, unknown>) => async (url: string): Promise<Response> => {
  const name = url.split('/').pop()!;
  if (!(name in files)) return new Response('', { status: 404 });
  const body = files[name];
  return new Response(body instanceof ArrayBuffer ? body : typeof body === 'string' ? body : JSON.stringify(body));
};

describe('PaintNet (tfjs runtime of the exported style and avatar networks)', () => {
  for (const backend of ['wasm', 'webgl', 'webgpu'] as const) {
    it(`matches the PyTorch output of every shipped style within tolerance on ${backend}`, async function () {
      this.timeout(120_000);
      expect(await tf.setBackend(backend)).to.equal(true);
      const styles = await styleFolders();
      expect(styles.length, 'models/manifest.json lists trained style models').to.be.greaterThan(0);
      for (const s of styles) {
        const parity = (await (await fetch(`${s.url}parity.json`)).json()) as Parity;
        const model = await PaintNet.load(s.url);
        const x = toNhwc(parity.x, parity.shape);
        const y = model.run(x);
        const want = toNhwc(parity.y, parity.shape);
        const diff = (await tf.max(tf.abs(tf.sub(y, want))).data())[0]!;
        tf.dispose([x, y, want]);
        model.dispose();
        expect(diff, `${s.id} on ${backend}: max |tfjs - pytorch|`).to.be.at.most(Math.min(parity.tolerance, 1e-3));
      }
    });
  }

  it('knows which shipped networks draw strokes at the output\'s scale (tiers taught there), and tells the page', async () => {
    const drawsAtScale: string[] = [];
    for (const s of await styleFolders()) {
      const json = (await (await fetch(`${s.url}model.json`)).json()) as { taught_scale?: number };
      const model = await PaintNet.load(s.url);
      expect(model.drawsOutputScale, s.id).to.equal((json.taught_scale ?? 1) > 1);
      if (model.drawsOutputScale) drawsAtScale.push(s.id);
      model.dispose();
    }
    // Full networks are trained at their own scale; the tiers are taught at the output's.
    expect(drawsAtScale.length, 'some shipped tier is taught at the output\'s scale').to.be.greaterThan(0);
    expect(drawsAtScale.every((id) => id.includes('/')), drawsAtScale.join(', ')).to.equal(true);
  });

  it('gives the same output on wasm, webgl and cpu for every op kind', async () => {
    const { json, bin } = tinyModel();
    const outs: Float32Array[] = [];
    for (const backend of ['cpu', 'wasm', 'webgl']) {
      await tf.setBackend(backend);
      const m = PaintNet.fromParts(json, [bin.slice(0)]);
      const x = tf.tidy(() => tf.reshape(tf.div(tf.add(tf.range(0, 1 * 8 * 12 * 3), 1), 300), [1, 8, 12, 3]) as tf.Tensor4D);
      const y = m.run(x);
      expect(y.shape).to.deep.equal([1, 8, 12, 3]);
      outs.push((await y.data()) as Float32Array);
      tf.dispose([x, y]);
      m.dispose();
    }
    for (const o of outs.slice(1)) {
      let d = 0;
      o.forEach((v, i) => (d = Math.max(d, Math.abs(v - outs[0]![i]!))));
      expect(d).to.be.below(1e-4);
    }
  });

  it('runs an upsampling and the 3×3 convolution after it as one 2×2 convolution: the op list\'s output on every backend, odd sizes and every activation', async function () {
    this.timeout(120_000);
    const { json, bin } = tinyModel();
    // Odd small pictures (5×7 before each upsampling), a linear convolution and a ReLU one.
    const ops = json.ops.slice(0, 5).concat([
      { op: 'upsample_nearest' },
      { op: 'conv2d', weight: 'c3.w', bias: null, kernel: 3, stride: 1, pad: 1 },
      { op: 'upsample_nearest' },
      { op: 'conv2d', weight: 'c4.w', bias: 'c4.b', kernel: 3, stride: 1, pad: 1 },
      { op: 'relu' },
    ] as PaintNetJson['ops']);
    const variants = [json, { ...json, arch: { name: 'odd', input_multiple: 2 }, ops }];
    for (const [v, shape] of [[variants[0]!, [1, 8, 12, 3]], [variants[1]!, [1, 10, 14, 3]]] as const) {
      for (const backend of ['cpu', 'wasm', 'webgl', 'webgpu']) {
        expect(await tf.setBackend(backend), backend).to.equal(true);
        const asWritten = PaintNet.fromParts(v, [bin.slice(0)], 'model.json', { fuse: false });
        const compiled = PaintNet.fromParts(v, [bin.slice(0)]);
        const n = shape[1] * shape[2] * 3;
        const x = tf.tidy(() => tf.reshape(tf.div(tf.add(tf.range(0, n), 1), n), [...shape]) as tf.Tensor4D);
        const want = asWritten.run(x);
        const got = compiled.run(x);
        expect(got.shape, `${backend} ${v.arch.name}`).to.deep.equal(want.shape);
        const [a, b] = [(await want.data()) as Float32Array, (await got.data()) as Float32Array];
        let d = 0;
        let mag = 0;
        a.forEach((w, i) => { d = Math.max(d, Math.abs(w - b[i]!)); mag = Math.max(mag, Math.abs(w)); });
        expect(mag, 'the picture is not flat').to.be.above(0.05);
        expect(d, `${backend} ${v.arch.name}: max |compiled - as written|`).to.be.below(1e-4);
        tf.dispose([x, want, got]);
        asWritten.dispose();
        compiled.dispose();
      }
    }
    await tf.setBackend('wasm');
    // The compiled plan runs no upsampling kernel: each pair is a convolution, a transpose and a slice.
    const t0 = tf.memory().numTensors;
    const m = PaintNet.fromParts(variants[1]!, [bin.slice(0)]);
    const t1 = tf.memory().numTensors;
    const base = PaintNet.fromParts(variants[1]!, [bin.slice(0)], 'model.json', { fuse: false });
    // Each replaced 3×3 kernel (and bias) is let go: as many weights held as the op list has.
    expect(t1 - t0, 'weights held by the compiled network').to.equal(tf.memory().numTensors - t1);
    expect(t1 - t0).to.equal(9);
    // conv, norm + ReLU, depthwise, pointwise; then the two pairs (one step each as written).
    expect(m.kernelCount).to.equal(4 + 2 * 3);
    expect(base.kernelCount).to.equal(4 + 2 * 2 + 1);
    m.dispose();
    base.dispose();
  });

  it('leaks no tensors across runs and frees all weights on dispose', async () => {
    await tf.setBackend('wasm');
    const before = tf.memory().numTensors;
    const { json, bin } = tinyModel();
    const m = PaintNet.fromParts(json, [bin]);
    const afterLoad = tf.memory().numTensors;
    for (let i = 0; i < 20; i++) {
      const x = tf.zeros([1, 8, 8, 3]) as tf.Tensor4D;
      m.run(x).dispose();
      x.dispose();
    }
    expect(tf.memory().numTensors).to.equal(afterLoad);
    m.dispose();
    expect(tf.memory().numTensors).to.equal(before);
    expect(() => m.run(tf.zeros([1, 8, 8, 3]) as tf.Tensor4D)).to.throw(/after dispose/);
  });

  it('rejects bad model files with errors that name the file and what was expected', async () => {
    const { json, bin } = tinyModel();
    const load = (files: Record<string, unknown>) => PaintNet.load('/m/x/', fakeFetch(files)).then(() => null, (e: Error) => e);
    let e = await load({ 'weights.bin': bin });
    expect(e).to.be.instanceOf(ModelFormatError);
    expect(e!.message).to.match(/\/m\/x\/model\.json: not found/);
    e = await load({ 'model.json': '{"format": "brushcam-st', 'weights.bin': bin });
    expect(e!.message).to.match(/model\.json: not valid JSON/);
    e = await load({ 'model.json': { ...json, format: 'tfjs-graph-model' }, 'weights.bin': bin });
    expect(e!.message).to.match(/expected "format": "brushcam-paintnet"/);
    const f16 = { ...json, weightsManifest: [{ ...json.weightsManifest[0]!, weights: json.weightsManifest[0]!.weights.map((w, i) => (i ? w : { ...w, dtype: 'float16' })) }] };
    e = await load({ 'model.json': f16, 'weights.bin': bin });
    expect(e!.message).to.match(/weight 'c1\.w': dtype must be float32, got "float16"/);
    e = await load({ 'model.json': json, 'weights.bin': bin.slice(0, 100) });
    expect(e!.message).to.match(/weights\.bin: too short: weight 'c1\.w' \[4,3,3,3\] needs bytes 0\.\.432, the file has 100/);
    e = await load({ 'model.json': json, 'weights.bin': new ArrayBuffer(bin.byteLength + 8) });
    expect(e!.message).to.match(/wrong weights manifest/);
    e = await load({ 'model.json': json });
    expect(e!.message).to.match(/weights\.bin: weight file not found/);
    const badOp = { ...json, ops: [...json.ops, { op: 'conv2d', weight: 'nope', bias: null, kernel: 3, stride: 1, pad: 1 }] };
    e = await load({ 'model.json': badOp, 'weights.bin': bin });
    expect(e!.message).to.match(/uses weight 'nope', which the weights manifest does not list/);
    const before = tf.memory().numTensors;
    const m = PaintNet.fromParts(json, [bin]);
    expect(() => m.run(tf.zeros([1, 6, 8, 3]) as tf.Tensor4D)).to.throw(/multiple of 4/);
    m.dispose();
    expect(tf.memory().numTensors).to.equal(before + 1); // the zeros above
  });

  it('reads the legacy "brushcam-style" format name as the same format, and runs the "features" marker as nothing', async () => {
    await tf.setBackend('cpu');
    const { json, bin } = tinyModel();
    const reconv = json.ops.findIndex((o) => o.op === 'save');
    const variants: PaintNetJson[] = [
      json,
      { ...json, format: 'brushcam-style' },
      { ...json, ops: [...json.ops.slice(0, reconv), { op: 'features', note: 'encoder output' }, ...json.ops.slice(reconv)] },
    ];
    const x = tf.tidy(() => tf.reshape(tf.div(tf.range(0, 8 * 12 * 3), 300), [1, 8, 12, 3]) as tf.Tensor4D);
    const outs: Float32Array[] = [];
    const kernels: number[] = [];
    for (const v of variants) {
      const m = await PaintNet.load('/m/x/', fakeFetch({ 'model.json': v, 'weights.bin': bin.slice(0) }));
      const y = m.run(x);
      outs.push((await y.data()) as Float32Array);
      kernels.push(m.kernelCount);
      y.dispose();
      m.dispose();
    }
    x.dispose();
    expect(kernels[1]).to.equal(kernels[0]);
    expect(kernels[2], 'the features marker adds no kernel').to.equal(kernels[0]);
    expect([...outs[1]!]).to.deep.equal([...outs[0]!]);
    expect([...outs[2]!]).to.deep.equal([...outs[0]!]);
  });

  it('counts FLOPs like training/ does: the reference ReCoNet ~135 GFLOP at 640x360, each shipped style as its card says', async () => {
    const ref = referenceReCoNet();
    const gf = styleFlops(ref.json, 360, 640) / 1e9;
    expect(gf).to.be.closeTo(134.97, 0.05);
    expect(styleFlops(ref.json, 720, 1280) / 1e9).to.be.closeTo(539.87, 0.2);
    for (const s of await styleFolders()) {
      const json = await (await fetch(`${s.url}model.json`)).json();
      const lite = styleFlops(json, 360, 640) / 1e9;
      expect(lite, s.id).to.be.closeTo(json.arch.gflop_640x360, 0.02);
      expect(lite, `${s.id} within the 5 GFLOP budget`).to.be.at.most(5);
      expect(gf / lite, `${s.id} is at least 8x cheaper than the reference`).to.be.at.least(8);
    }
  });

  it('paints bitmaps at the frame size and leaks nothing across style switches', async function () {
    this.timeout(120_000);
    await tf.setBackend('wasm');
    const styles = await styleFolders();
    const input = await createImageBitmap(new ImageData(new Uint8ClampedArray(64 * 48 * 4).map((_, i) => (i * 37) % 256), 64, 48));
    const before = tf.memory().numTensors;
    const outs: number[][] = [];
    for (const s of styles) {
      const st = new Stylizer(await PaintNet.load(s.url), { fixedMaxSide: 64 });
      for (let k = 0; k < 3; k++) {
        const out = await st.paint(input);
        expect([out.width, out.height]).to.deep.equal([64, 48]);
        if (k === 2) {
          const c = new OffscreenCanvas(8, 6);
          c.getContext('2d')!.drawImage(out, 0, 0, 8, 6);
          outs.push(Array.from(c.getContext('2d')!.getImageData(0, 0, 8, 6).data));
        }
        out.close();
      }
      st.dispose();
      expect(tf.memory().numTensors, `tensors after ${s.id}`).to.equal(before);
    }
    input.close();
    // Different styles paint differently.
    const d = (a: number[], b: number[]) => a.reduce((x, v, i) => x + Math.abs(v - b[i]!), 0) / a.length;
    for (let i = 1; i < outs.length; i++) expect(d(outs[0]!, outs[i]!)).to.be.above(3);
  });

  it('paints on WebGPU (SwiftShader here) like on WASM', async function () {
    this.timeout(120_000);
    const [style] = await styleFolders();
    const data = new Uint8ClampedArray(32 * 24 * 4).map((_, i) => (i % 4 === 3 ? 255 : (i * 53) % 256));
    const input = await createImageBitmap(new ImageData(data, 32, 24));
    const pixelsOf = (b: ImageBitmap): Uint8ClampedArray => {
      const c = new OffscreenCanvas(b.width, b.height);
      c.getContext('2d')!.drawImage(b, 0, 0);
      return c.getContext('2d')!.getImageData(0, 0, b.width, b.height).data;
    };
    const paintOn = async (backend: string): Promise<Uint8ClampedArray> => {
      expect(await tf.setBackend(backend), backend).to.equal(true);
      const st = new Stylizer(await PaintNet.load(style!.url), { fixedMaxSide: 32 });
      try {
        const out = await st.paint(input);
        const px = pixelsOf(out);
        out.close();
        return px;
      } finally {
        st.dispose();
      }
    };
    const want = await paintOn('wasm');
    const got = await paintOn('webgpu');
    await tf.setBackend('wasm');
    input.close();
    let d = 0;
    for (let i = 0; i < got.length; i += 4) for (let c = 0; c < 3; c++) d += Math.abs(got[i + c]! - want[i + c]!);
    expect(d / (got.length * 0.75)).to.be.below(2);
  });

  it('stability: a Stylizer with the option paints through its stabilizer, which starts over after warm-up and frees all on dispose', async function () {
    this.timeout(60_000);
    await tf.setBackend('wasm');
    const style = (await styleFolders())[0]!;
    const before = tf.memory().numTensors;
    const st = new Stylizer(await PaintNet.load(style.url), { fixedMaxSide: 64, stability: true });
    expect(st.stabilizer, 'the option creates a stabilizer').to.not.equal(null);
    const calls: number[] = [];
    const apply = st.stabilizer!.apply.bind(st.stabilizer!);
    st.stabilizer!.apply = (x, y) => (calls.push(y.shape[1]), apply(x, y));
    await st.warmUp(64, 48);
    const frame = await createImageBitmap(new ImageData(new Uint8ClampedArray(64 * 48 * 4).fill(128), 64, 48));
    const counts: number[] = [];
    for (let i = 0; i < 4; i++) {
      (await st.paint(frame)).close();
      counts.push(tf.memory().numTensors);
    }
    frame.close();
    expect(calls.length, 'every paint went through the stabilizer').to.equal(5);
    // The first frame after warm-up has nothing to blend with; from the second on the state
    // (previous frame, per-size grid) is complete and the count must stay flat.
    expect(new Set(counts.slice(1)).size, `tensors per frame ${counts.join(' ')}`).to.equal(1);
    st.dispose();
    expect(tf.memory().numTensors).to.equal(before);
    expect(new Stylizer({} as unknown as ConstructorParameters<typeof Stylizer>[0]).stabilizer, 'off by default').to.equal(null);
  });

  it('model tier: the ladder mixes both networks by fidelity, the tier placed by its measured cost', async function () {
    this.timeout(60_000);
    await tf.setBackend('wasm');
    const before = tf.memory().numTensors;
    const { json, bin } = tinyModel();
    const full = PaintNet.fromParts(json, [bin.slice(0)]);
    // The tier: the same op list with other weights (so its output differs visibly).
    const other = new Float32Array(bin.slice(0)).map((v, i) => (i % 7 === 0 ? -v : v * 0.5));
    const tier = PaintNet.fromParts({ ...json, id: 'tiny-tier' }, [other.buffer]);
    const runs = { full: 0, tier: 0 };
    const count = (m: typeof full, k: keyof typeof runs): void => {
      const run = m.run.bind(m);
      m.run = (x) => (runs[k]++, run(x));
    };
    count(full, 'full');
    count(tier, 'tier');
    const st = new Stylizer(full, { tier: { name: 'tiny', model: tier } });
    const rungs = st.ladderRungs;
    expect(rungs[0], 'the full model at the largest size first').to.deep.equal({ side: 640, tier: null });
    expect(rungs.at(-1), 'the tier at the smallest size last').to.deep.equal({ side: 96, tier: 'tiny' });
    // Cheaper all the way down (the governor's equivalent sides strictly decrease).
    const eq = st.governor.sides;
    for (let i = 1; i < eq.length; i++) expect(eq[i]!).to.be.below(eq[i - 1]!);
    await st.warmUp(64, 48);
    // At the probe size once to compile, then WARMUP_RUNS timed; once more when the rung it starts on is the tier's.
    expect(runs.tier, 'warm-up timed the tier too').to.be.within(1 + WARMUP_RUNS, 2 + WARMUP_RUNS);
    // Far over budget: the governor walks down the ladder to its last rung.
    for (let i = 0; i < 60 && st.governor.tier < st.governor.sides.length - 1; i++) st.governor.record(10_000);
    expect(st.level.side).to.equal(96);
    const frame = await createImageBitmap(new ImageData(new Uint8ClampedArray(64 * 48 * 4).map((_, i) => (i * 37) % 256), 64, 48));
    runs.full = runs.tier = 0;
    (await st.paint(frame)).close();
    expect(runs, 'painted with the model of its rung').to.deep.equal(st.level.tier ? { full: 0, tier: 1 } : { full: 1, tier: 0 });
    // Plenty of room again: back up to the full model at the top (one held step at a time).
    for (let i = 0; i < 2000 && st.governor.tier > 0; i++) st.governor.record(1);
    expect(st.level).to.deep.equal({ side: 640, tier: null });
    runs.full = runs.tier = 0;
    (await st.paint(frame)).close();
    expect(runs).to.deep.equal({ full: 1, tier: 0 });
    frame.close();
    st.dispose();
    expect(tf.memory().numTensors, 'both models freed').to.equal(before);
    // No tier: the ladder is the sizes alone; a fixed size ignores the tier.
    expect(new Stylizer({} as unknown as typeof full).governor.sides.at(-1)).to.equal(96);
    expect(new Stylizer({} as unknown as typeof full, { fixedMaxSide: 64, tier: { name: 'tiny', model: {} as unknown as typeof full } }).governor.sides).to.deep.equal([64]);
  });

  it('warm-up: a network whose one frame takes longer than the budget is timed once, a fast one WARMUP_RUNS times', async function () {
    this.timeout(60_000);
    await tf.setBackend('wasm');
    const { json, bin } = tinyModel();
    const warmRuns = async (delayMs: number): Promise<number> => {
      const m = PaintNet.fromParts(json, [bin.slice(0)]);
      let n = 0;
      const run = m.run.bind(m);
      m.run = (x) => {
        n++;
        // a device that takes delayMs a frame (the clock runs while the frame does)
        for (const end = performance.now() + delayMs; performance.now() < end;);
        return run(x);
      };
      const st = new Stylizer(m);
      await st.warmUp(64, 48);
      st.dispose();
      return n;
    };
    // Once to compile, then timed; once more when the rung it starts on is not the probe size.
    expect(await warmRuns(0), 'fast: WARMUP_RUNS timed').to.be.within(1 + WARMUP_RUNS, 2 + WARMUP_RUNS);
    expect(await warmRuns(WARMUP_BUDGET_MS * 1.1), 'slow: one timed frame').to.be.within(2, 3);
  });

  it('orders the ladder by fidelity: a tier that costs a third replaces the full model below the top', () => {
    const sides = [640, 448, 320, 224, 160, 96];
    const ladder = fidelityLadder(sides, { name: 'tiny', cost: 1 / 3 });
    expect(ladder[0]).to.include({ side: 640, tier: null });
    // The full model at 448 costs more than the tier at 640 and draws less: it is not on the ladder.
    expect(ladder.find((r) => r.side === 448 && r.tier === null)).to.equal(undefined);
    expect(ladder.slice(1).every((r) => r.tier === 'tiny'), JSON.stringify(ladder)).to.equal(true);
    for (let i = 1; i < ladder.length; i++) {
      expect(ladder[i]!.cost).to.be.below(ladder[i - 1]!.cost);
      expect(ladder[i]!.fidelity).to.be.below(ladder[i - 1]!.fidelity);
    }
    // A tier as dear as the full model never appears; no tier: the sizes alone.
    expect(fidelityLadder(sides, { name: 'tiny', cost: 1 }).map((r) => r.tier)).to.deep.equal(sides.map(() => null));
    expect(fidelityLadder(sides, null).map((r) => r.side)).to.deep.equal(sides);
  });

  it('reads model tiers from the manifest and names a malformed one', () => {
    const entry = { id: 'udnie', kind: 'style', name: 'Udnie', folder: 'style/udnie', inputResolution: null, gflopsAt640x360: 4.76, dataLicence: '', provenance: '' };
    const ok = parseModelsManifest({ version: 1, models: [{ ...entry, tiers: [{ id: 'tiny', folder: 'style/udnie/tiny', gflopsAt640x360: 1.73 }] }] });
    expect(ok.models[0]!.tiers![0]!.folder).to.equal('style/udnie/tiny');
    expect(() => parseModelsManifest({ version: 1, models: [{ ...entry, tiers: {} }] })).to.throw(/models\[0\]\.tiers must be an array/);
    expect(() => parseModelsManifest({ version: 1, models: [{ ...entry, tiers: [{ id: 'Tiny!', folder: 'x' }] }] })).to.throw(/tiers\[0\]\.id/);
    expect(() => parseModelsManifest({ version: 1, models: [{ ...entry, tiers: [{ id: 'tiny' }] }] })).to.throw(/tiers\[0\]\.folder/);
  });

  it('battery saver caps the governor: nothing above 320 px, a 15-fps budget', () => {
    const model = {} as unknown as ConstructorParameters<typeof Stylizer>[0];
    const saver = new Stylizer(model, { budgetMs: 1000 / 15, maxSide: 320 });
    expect(Math.max(...saver.governor.sides)).to.equal(320);
    expect(saver.governor.maxSide).to.equal(320);
    expect(saver.governor.budgetMs).to.be.closeTo(66.7, 0.1);
    expect(new Stylizer(model).governor.maxSide).to.equal(640);
  });

  it('picks internal sizes that are multiples of 4 and never above the frame', () => {
    expect(internalSize(640, 360)).to.deep.equal([640, 360]);
    expect(internalSize(1280, 720)).to.deep.equal([640, 360]);
    expect(internalSize(360, 640)).to.deep.equal([360, 640]);
    const [w, h] = internalSize(641, 479);
    expect(w % 4).to.equal(0);
    expect(h % 4).to.equal(0);
    expect(w).to.be.at.most(644);
    // Networks with four stride-2 convolutions (the artist styles) need multiples of 16.
    expect(internalSize(640, 360, 640, 16)).to.deep.equal([640, 368]);
    expect(internalSize(1280, 720, 320, 16)).to.deep.equal([320, 176]);
    expect(internalSize(1, 1, 640, 16)).to.deep.equal([16, 16]);
  });
});
