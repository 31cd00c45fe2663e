import { expect } from '@esm-bundle/chai';

// BlazeFace on tfjs (the detector where a browser has no WebGL for tasks-vision, e.g. headless
// Firefox on a server) against tasks-vision's FaceDetector on the same model file and images:
// the same faces, boxes, eyes and scores. tfjs runs on its WASM backend, as in Firefox.
type Kit = typeof import('../../src/entries/ml-testkit');
const { tf, setWasmPaths, FaceFinder, readTfliteGraph, TfliteFormatError, TfBlazeFace } = (await import('/build/ml-testkit.js' as string)) as Kit;
setWasmPaths('/node_modules/@tensorflow/tfjs-backend-wasm/dist/');

const OPTS = { wasm: '/node_modules/@mediapipe/tasks-vision/wasm', model: '/models/face/blaze_face_short_range.tflite' };
const LONDON = '/__shared/faces/london/';

async function bitmap(url: string): Promise<ImageBitmap> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return createImageBitmap(await r.blob());
}

/** `img` drawn at (x, y, w, h) on a grey W×H frame (a camera frame with a face somewhere). */
function framed(img: ImageBitmap, W: number, H: number, x: number, y: number, w: number, h: number): ImageBitmap {
  const c = new OffscreenCanvas(W, H);
  const ctx = c.getContext('2d')!;
  ctx.fillStyle = '#777';
  ctx.fillRect(0, 0, W, H);
  ctx.drawImage(img, x, y, w, h);
  return c.transferToImageBitmap();
}

describe('BlazeFace on tfjs (no-WebGL detector) against tasks-vision', function () {
  this.timeout(180_000);
  type Finder = Awaited<ReturnType<typeof FaceFinder.create>>;
  let mp: Finder;
  let tfd: Finder;
  before(async () => {
    await tf.setBackend('wasm');
    mp = await FaceFinder.create({ ...OPTS, engine: 'mediapipe' });
    tfd = await FaceFinder.create({ ...OPTS, engine: 'tfjs' });
  });
  after(() => {
    mp?.close();
    tfd?.close();
  });

  it('reports which engine runs, and auto picks tasks-vision where there is WebGL', async () => {
    expect(mp.engine).to.equal('mediapipe');
    expect(tfd.engine).to.equal('tfjs');
    const auto = await FaceFinder.create(OPTS);
    expect(auto.engine).to.equal('mediapipe'); // Chromium here has WebGL (SwiftShader)
    auto.close();
  });

  it('finds the same faces with the same boxes, eyes and scores (portraits, frames with a face off centre, two faces)', async () => {
    const cases: { name: string; img: ImageBitmap }[] = [];
    for (const name of ['neutral_front/001_03', 'neutral_front/010_03', 'neutral_front/020_03', 'composite/f_african', 'zoom/30cm', 'smiling_front/002_08']) {
      cases.push({ name, img: await bitmap(`${LONDON}${name}.jpg`).catch(() => null as unknown as ImageBitmap) });
    }
    const a = await bitmap(`${LONDON}neutral_front/001_03.jpg`);
    const b = await bitmap(`${LONDON}neutral_front/020_03.jpg`);
    cases.push({ name: '640x360, face left', img: framed(a, 640, 360, 40, 20, 300, 300) });
    cases.push({ name: '1280x720, face right', img: framed(a, 1280, 720, 700, 120, 520, 520) });
    cases.push({ name: '360x640 portrait frame', img: framed(b, 360, 640, 20, 180, 320, 320) });
    const two = new OffscreenCanvas(1024, 512);
    two.getContext('2d')!.drawImage(a, 0, 0, 512, 512);
    two.getContext('2d')!.drawImage(b, 512, 0, 512, 512);
    cases.push({ name: 'two faces', img: two.transferToImageBitmap() });
    a.close();
    b.close();
    let compared = 0;
    const worst = { box: 0, eye: 0, score: 0 };
    for (const { name, img } of cases) {
      if (!img) continue;
      const ref = mp.detect(img).sort((p, q) => p.x - q.x);
      const got = tfd.detect(img).sort((p, q) => p.x - q.x);
      expect(got.length, `${name}: faces (tasks-vision ${ref.length})`).to.equal(ref.length);
      expect(ref.length, `${name}: tasks-vision finds a face`).to.be.greaterThan(0);
      // The two resample the frame to the 128×128 input differently (tasks-vision bilinear on the
      // GPU after its own downscale past 640 px wide, tfjs through the 2D canvas): positions may
      // differ by the model's input pixel, 1.5 of them at most, in the frame's pixels.
      const quantum = (1.5 * Math.max(img.width, img.height)) / 128;
      img.close();
      for (const [k, r] of ref.entries()) {
        const g = got[k]!;
        const box = Math.max(Math.abs(g.x - r.x), Math.abs(g.y - r.y), Math.abs(g.width - r.width), Math.abs(g.height - r.height)) / quantum;
        const eye = Math.max(...[0, 1].flatMap((e) => [Math.abs(g.eyes[e]!.x - r.eyes[e]!.x), Math.abs(g.eyes[e]!.y - r.eyes[e]!.y)])) / quantum;
        const score = Math.abs(g.score - r.score);
        worst.box = Math.max(worst.box, box);
        worst.eye = Math.max(worst.eye, eye);
        worst.score = Math.max(worst.score, score);
        const what = `${name} face ${k}: ${JSON.stringify(g)} vs tasks-vision ${JSON.stringify(r)}`;
        expect(box, `box, ${what}`).to.be.at.most(1);
        expect(eye, `eyes, ${what}`).to.be.at.most(1);
        expect(score, `score, ${what}`).to.be.lessThan(0.03);
        compared++;
      }
    }
    expect(compared).to.be.greaterThan(8);
    console.log(`tfjs vs tasks-vision over ${compared} faces, worst (in 1.5 input pixels): box ${worst.box.toFixed(2)}, eyes ${worst.eye.toFixed(2)}, score ${worst.score.toFixed(3)}`);
  });

  it('finds nothing in a flat grey frame or in noise, and frees its tensors', async () => {
    const before = tf.memory().numTensors;
    const grey = await createImageBitmap(new ImageData(new Uint8ClampedArray(640 * 360 * 4).fill(128), 640, 360));
    const noise = new Uint8ClampedArray(320 * 240 * 4).map((_, i) => (i % 4 === 3 ? 255 : Math.floor(Math.random() * 256)));
    const noisy = await createImageBitmap(new ImageData(noise, 320, 240));
    expect(tfd.detect(grey)).to.have.length(0);
    expect(tfd.detect(noisy)).to.have.length(0);
    for (let k = 0; k < 3; k++) tfd.detect(grey);
    grey.close();
    noisy.close();
    expect(tf.memory().numTensors, 'tensors after repeated detections').to.equal(before);
  });

  it('bad model bytes: a clear error naming what was expected', async () => {
    expect(() => readTfliteGraph(new TextEncoder().encode('PK\u0003\u0004 not a model'))).to.throw(TfliteFormatError, /expected 'TFL3'/);
    expect(() => TfBlazeFace.fromBytes(new Uint8Array(4))).to.throw(TfliteFormatError, /TFL3/);
    let missing = '';
    await FaceFinder.create({ ...OPTS, model: '/models/face/no-such.tflite', engine: 'tfjs' }).catch((e: Error) => (missing = e.message));
    expect(missing).to.match(/no-such\.tflite: HTTP 404/);
    // the shipped file read as a graph: BlazeFace short range's input and its 200-odd operators
    const bytes = new Uint8Array(await (await fetch(OPTS.model)).arrayBuffer());
    const g = readTfliteGraph(bytes);
    expect(g.tensors[g.inputs[0]!]!.shape).to.deep.equal([1, 128, 128, 3]);
    expect(g.operators.length).to.be.greaterThan(100);
  });
});
