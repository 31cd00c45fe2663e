import { expect } from '@esm-bundle/chai';
import { cropFromEyes } from '../../src/engine/avatar/alignment';
import { DetectorStride, FaceFinder } from '../../src/engine/avatar/face-detector';

const WASM = '/node_modules/@mediapipe/tasks-vision/wasm';
const MODEL = '/models/face/blaze_face_short_range.tflite';
const LONDON = '/__shared/faces/london/neutral_front/';

/** The London set's .tem files: 189 points; 0 and 1 are the pupils, in the 1350² originals. */
async function pupils(name: string): Promise<[{ x: number; y: number }, { x: number; y: number }]> {
  const lines = (await (await fetch(`${LONDON}${name}.tem`)).text()).trim().split('\n');
  const p = (i: number): { x: number; y: number } => {
    const [x, y] = lines[1 + i]!.trim().split(/\s+/).map(Number);
    return { x: (x! * 512) / 1350, y: (y! * 512) / 1350 };
  };
  return [p(0), p(1)];
}

describe('face detector (tasks-vision BlazeFace in the engine)', function () {
  this.timeout(120_000);
  let finder: FaceFinder;
  before(async () => {
    finder = await FaceFinder.create({ wasm: WASM, model: MODEL });
  });
  after(() => finder?.close());

  it('finds one face per London portrait with its eyes where the landmarks put the pupils', async () => {
    for (const name of ['001_03', '010_03', '020_03']) {
      const img = await createImageBitmap(await (await fetch(`${LONDON}${name}.jpg`)).blob());
      const faces = finder.detect(img);
      img.close();
      expect(faces, name).to.have.length(1);
      const [l, r] = await pupils(name);
      const det = cropFromEyes(faces[0]!.eyes[0], faces[0]!.eyes[1]);
      const ref = cropFromEyes(l, r);
      // Same crop within 6% of its side (BlazeFace's eye keypoints are eye centres, not pupils).
      expect(Math.hypot(det.cx - ref.cx, det.cy - ref.cy), name).to.be.lessThan(0.06 * ref.size);
      expect(det.size / ref.size, name).to.be.within(0.85, 1.15);
    }
  });

  it('finds two faces side by side', async () => {
    const c = new OffscreenCanvas(1024, 512);
    const x = c.getContext('2d')!;
    for (const [i, name] of ['001_03', '020_03'].entries()) {
      const img = await createImageBitmap(await (await fetch(`${LONDON}${name}.jpg`)).blob());
      x.drawImage(img, 512 * i, 0);
      img.close();
    }
    const both = c.transferToImageBitmap();
    const faces = finder.detect(both);
    both.close();
    expect(faces).to.have.length(2);
  });

  it('a frame wider than DETECT_MAX_WIDTH is detected downscaled, with boxes and eyes in its own pixels', async () => {
    const img = await createImageBitmap(await (await fetch(`${LONDON}001_03.jpg`)).blob());
    const at = (W: number, H: number): ImageBitmap => {
      const c = new OffscreenCanvas(W, H);
      const x = c.getContext('2d')!;
      x.fillStyle = '#777';
      x.fillRect(0, 0, W, H);
      x.drawImage(img, (W - H) / 2, 0, H, H);
      return c.transferToImageBitmap();
    };
    const [small, big] = [at(640, 360), at(1280, 720)];
    const [a] = finder.detect(small);
    const [b] = finder.detect(big);
    small.close();
    big.close();
    img.close();
    expect(a && b, 'a face at both sizes').to.be.ok;
    const ca = cropFromEyes(a!.eyes[0], a!.eyes[1]);
    const cb = cropFromEyes(b!.eyes[0], b!.eyes[1]);
    expect(Math.hypot(cb.cx - 2 * ca.cx, cb.cy - 2 * ca.cy)).to.be.lessThan(0.02 * cb.size);
    expect(cb.size / (2 * ca.size)).to.be.within(0.98, 1.02);
    expect(b!.width / (2 * a!.width)).to.be.within(0.97, 1.03);
    expect(b!.x / (2 * a!.x)).to.be.within(0.97, 1.03);
  });

  it('stride: every frame while detection is cheap, fewer when it is slow, bounded', () => {
    const s = new DetectorStride(1000 / 30, 6);
    expect(s.stride).to.equal(1);
    s.record(500); // the first detection warms the detector up: not counted
    expect(s.stride).to.equal(1);
    for (let i = 0; i < 20; i++) s.record(4);
    expect(s.stride).to.equal(1);
    for (let i = 0; i < 40; i++) s.record(20);
    expect(s.stride).to.equal(3);
    for (let i = 0; i < 40; i++) s.record(500);
    expect(s.stride).to.equal(6);
    const due = Array.from({ length: 12 }, () => s.due()).filter(Boolean).length;
    expect(due).to.equal(2);
  });
});
