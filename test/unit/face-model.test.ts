import { expect } from '@esm-bundle/chai';
import { FaceDetector, FilesetResolver, type Detection } from '@mediapipe/tasks-vision';

// The shipped detector (models/face, built by tools/face-model) against the known-good
// reference copy in ../shared/data: tasks-vision must accept it and find the same faces.
const WASM = '/node_modules/@mediapipe/tasks-vision/wasm';
const SHIPPED = '/models/face/blaze_face_short_range.tflite';
const REFERENCE = '/__shared/face-detector/blaze_face_short_range.reference.tflite';
const FACES = ['/__shared/faces/london/neutral_front/001_03.jpg', '/__shared/faces/london/composite/f_african.jpg', '/__shared/faces/london/zoom/30cm.jpg'];

async function bytes(url: string): Promise<Uint8Array> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

async function detector(model: Uint8Array): Promise<FaceDetector> {
  const fileset = await FilesetResolver.forVisionTasks(WASM);
  return FaceDetector.createFromOptions(fileset, { baseOptions: { modelAssetBuffer: model, delegate: 'CPU' }, runningMode: 'IMAGE' });
}

async function image(url: string): Promise<ImageBitmap> {
  return createImageBitmap(await (await fetch(url)).blob());
}

describe('face detector model (models/face)', function () {
  this.timeout(120_000);
  let shipped: FaceDetector;
  let reference: FaceDetector;

  before(async () => {
    shipped = await detector(await bytes(SHIPPED));
    reference = await detector(await bytes(REFERENCE));
  });
  after(() => {
    shipped?.close();
    reference?.close();
  });

  it('is accepted by tasks-vision and finds the same face, keypoints and score as the reference', async () => {
    for (const url of FACES) {
      const img = await image(url);
      const a: Detection[] = shipped.detect(img).detections;
      const b: Detection[] = reference.detect(img).detections;
      img.close();
      expect(a.length, url).to.equal(1);
      expect(b.length, url).to.equal(1);
      const [da, db] = [a[0]!, b[0]!];
      expect(da.categories[0]!.score).to.be.closeTo(db.categories[0]!.score, 1e-6);
      const ba = da.boundingBox!, bb = db.boundingBox!;
      expect([ba.originX, ba.originY, ba.width, ba.height]).to.deep.equal([bb.originX, bb.originY, bb.width, bb.height]);
      expect(da.keypoints.map((k) => [k.x, k.y])).to.deep.equal(db.keypoints.map((k) => [k.x, k.y]));
      // A real face: the box covers a good part of the portrait and the score is high.
      expect(da.categories[0]!.score).to.be.greaterThan(0.8);
      expect(ba.width).to.be.greaterThan(100);
    }
  });

  it('the npm package\'s model without metadata is what tasks-vision rejects', async () => {
    let message = '';
    try {
      (await detector(await bytes('/node_modules/@mediapipe/face_detection/face_detection_short_range.tflite'))).close();
    } catch (e) {
      message = e instanceof Error ? e.message : String(e);
    }
    expect(message).to.match(/NormalizationOptions|metadata/i);
  });

  it('finds nothing in a flat grey image', async () => {
    const img = await createImageBitmap(new ImageData(new Uint8ClampedArray(256 * 256 * 4).fill(128), 256, 256));
    expect(shipped.detect(img).detections).to.have.length(0);
    img.close();
  });
});
