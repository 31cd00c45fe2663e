import { expect } from '@esm-bundle/chai';
import { londonFrame } from './helpers';

// The avatar's translator in its own worker (src/engine/avatar/translator.ts, translator-worker.ts,
// built as build/ext/translator-worker.js) and the avatar painter's pipelined mode.
type Kit = typeof import('../../src/entries/ml-testkit');
const { tf, setWasmPaths, PaintNet, runOnPixels, FaceFinder, AvatarPainter, WorkerTranslator, translatorThreads } = (await import('/build/ml-testkit.js' as string)) as Kit;
setWasmPaths('/node_modules/@tensorflow/tfjs-backend-wasm/dist/');

const WORKER = '/build/ext/translator-worker.js';
const MODEL = '/test/fixtures/anime-tiny/';
const WASM = '/node_modules/@tensorflow/tfjs-backend-wasm/dist/';
const FINDER = { wasm: '/node_modules/@mediapipe/tasks-vision/wasm', model: '/models/face/blaze_face_short_range.tflite' };

/** A 128×128 crop of a London face. */
async function crop(n = 128): Promise<ImageData> {
  const img = await createImageBitmap(await (await fetch('/__shared/faces/london/neutral_front/001_03.jpg')).blob());
  const c = new OffscreenCanvas(n, n);
  const x = c.getContext('2d', { willReadFrequently: true })!;
  x.drawImage(img, 0, 0, n, n);
  img.close();
  return x.getImageData(0, 0, n, n);
}

const frame = (dim = 0): Promise<ImageBitmap> => londonFrame(dim);

const maxDiff = (a: Uint8ClampedArray, b: Uint8ClampedArray): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) if ((i & 3) !== 3) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

/** A translator whose answers the test releases one at a time (the model runs here). */
function heldTranslator(model: Awaited<ReturnType<typeof PaintNet.load>>) {
  const queue: { crop: ImageData; resolve: (p: Uint8ClampedArray<ArrayBuffer>) => void; reject: (e: Error) => void }[] = [];
  return {
    label: 'held',
    queue,
    run(c: ImageData) {
      return new Promise<Uint8ClampedArray<ArrayBuffer>>((resolve, reject) => queue.push({ crop: new ImageData(c.data.slice(), c.width, c.height), resolve, reject }));
    },
    async release() {
      const q = queue.shift()!;
      q.resolve(await runOnPixels(model, q.crop, q.crop.width, q.crop.height));
    },
    dispose() {},
  };
}

describe('WorkerTranslator (the avatar translator in its own worker)', function () {
  this.timeout(120_000);

  it('translates a crop as the model does here (same WASM kernels), in order, several queued', async () => {
    await tf.setBackend('wasm');
    const model = await PaintNet.load(MODEL);
    const c = await crop();
    const here = await runOnPixels(model, c, 128, 128);
    const t = await WorkerTranslator.create(WORKER, MODEL, WASM, 128);
    try {
      expect(t.label).to.match(/tfjs-wasm/);
      const dark = new ImageData(c.data.map((v, i) => ((i & 3) === 3 ? v : v >> 1)), 128, 128);
      const [a, b] = await Promise.all([t.run(c), t.run(dark)]);
      expect(a.length).to.equal(128 * 128 * 4);
      expect(maxDiff(a, here), 'worker vs here').to.be.at.most(1);
      expect(maxDiff(b, await runOnPixels(model, dark, 128, 128)), 'second crop, answered second').to.be.at.most(1);
      expect(maxDiff(a, b), 'two different crops').to.be.greaterThan(10);
      expect(c.data.length, 'the crop stays with the caller').to.equal(128 * 128 * 4);
    } finally {
      t.dispose();
      model.dispose();
    }
  });

  it('a missing or corrupt model: creation rejects naming the file, and the worker ends', async () => {
    let err: Error | null = null;
    await WorkerTranslator.create(WORKER, '/test/fixtures/no-such-model/', WASM, 128).catch((e: Error) => (err = e));
    expect(err, 'rejected').to.be.instanceOf(Error);
    expect(err!.message).to.match(/no-such-model\/model\.json/);
  });

  it('bad input and a dead worker: clear errors, every pending and later run rejects', async () => {
    const t = await WorkerTranslator.create(WORKER, MODEL, WASM, 128);
    let err: Error | null = null;
    await t.run(new ImageData(128, 64)).catch((e: Error) => (err = e));
    expect(err!.message).to.match(/square crop, got 128×64/);
    const c = await crop();
    const pending = t.run(c);
    t.dispose();
    err = null;
    await pending.catch((e: Error) => (err = e));
    expect(err!.message).to.match(/disposed/);
    err = null;
    await t.run(c).catch((e: Error) => (err = e));
    expect(err!.message).to.match(/disposed/);
    expect(t.failed).to.equal(true);
  });

  it('threads: every core but the engine worker\'s, one to three', () => {
    expect([undefined, 1, 2, 3, 4, 8, 64, NaN].map((c) => translatorThreads(c))).to.deep.equal([1, 1, 1, 2, 3, 3, 3, 1]);
  });

  it('a translation that never answers: rejected after the run limit', async () => {
    const t = await WorkerTranslator.create(WORKER, MODEL, WASM, 128, { runMs: 1 });
    let err: Error | null = null;
    await t.run(await crop()).catch((e: Error) => (err = e));
    expect(err!.message).to.match(/did not answer within 1 ms/);
    t.dispose();
  });
});

describe('AvatarPainter, pipelined (translation beside the frames)', function () {
  this.timeout(120_000);

  it('frames do not wait for a translation; each is shown from the frame after it arrives; none leaks', async () => {
    await tf.setBackend('wasm');
    const base = tf.memory().numTensors;
    const model = await PaintNet.load(MODEL);
    const translator = heldTranslator(model);
    let now = 0;
    const p = new AvatarPainter(await PaintNet.load(MODEL), await FaceFinder.create(FINDER), 'face-swap', { now: () => now, translator });
    // the light changes from frame to frame: the smoother never holds, every free moment sends a crop
    const inputs = [await frame(), await frame(0.35)];
    let k = 0;
    const paint = async (): Promise<void> => {
      now += 1000 / 30;
      (await p.paint(inputs[k++ % 2]!)).close();
    };
    // The first avatar is waited for: release it while the frame waits.
    const first = paint();
    while (!translator.queue.length) await new Promise((r) => setTimeout(r, 5));
    await translator.release();
    await first;
    expect(p.pipelined).to.equal(1);
    // From now on frames go on while a translation is out: five frames, one crop out, none shown.
    for (let i = 0; i < 5; i++) await paint();
    expect(translator.queue.length, 'one crop out at a time').to.equal(1);
    expect(p.pipelined, 'nothing shown before it came back').to.equal(1);
    expect(p.held).to.equal(0);
    await translator.release();
    await new Promise((r) => setTimeout(r, 0));
    await paint();
    expect(p.pipelined, 'shown from the next frame').to.equal(2);
    expect(translator.queue.length, 'and the next crop sent at once').to.equal(1);
    expect(p.tier).to.match(/^det\d+-tr\d+/);
    expect(p.pipelinedNow).to.equal(true);
    while (translator.queue.length) await translator.release();
    inputs.forEach((b) => b.close());
    p.dispose();
    model.dispose();
    expect(tf.memory().numTensors).to.equal(base);
  });

  it('a failed translator: the next frame fails once with its reason, then the engine translates', async () => {
    await tf.setBackend('wasm');
    const model = await PaintNet.load(MODEL);
    const translator = heldTranslator(model);
    let now = 0;
    const p = new AvatarPainter(model, await FaceFinder.create(FINDER), 'full-avatar', { now: () => now, translator });
    const input = await frame();
    const first = p.paint(input);
    while (!translator.queue.length) await new Promise((r) => setTimeout(r, 5));
    translator.queue.shift()!.reject(new Error('the translator worker failed: boom'));
    (await first).close();
    now += 33;
    let err: Error | null = null;
    await p.paint(input).then((b) => b.close(), (e: Error) => (err = e));
    expect(err, 'the failure is heard').to.be.instanceOf(Error);
    expect(err!.message).to.match(/boom; the avatar translates in the engine from now on/);
    expect(p.pipelinedNow).to.equal(false);
    now += 33;
    (await p.paint(input)).close();
    expect(translator.queue.length, 'nothing more sent to the failed translator').to.equal(0);
    input.close();
    p.dispose();
  });
});
