import { expect } from '@esm-bundle/chai';

// The engine's avatar chain (src/engine/avatar/avatar-painter.ts) on London faces with the untrained fixture
// translator: output geometry, the face region replaced, and tensors flat over frames and freed.
type Kit = typeof import('../../src/entries/ml-testkit');
const { tf, setWasmPaths, PaintNet, FaceFinder, AvatarPainter, translatorSide, TRANSLATE_SIDES } = (await import('/build/ml-testkit.js' as string)) as Kit;
setWasmPaths('/node_modules/@tensorflow/tfjs-backend-wasm/dist/');

const FINDER = { wasm: '/node_modules/@mediapipe/tasks-vision/wasm', model: '/models/face/blaze_face_short_range.tflite' };

/** A 640×360 "camera frame": a London portrait in the middle of a grey frame. */
async function frame(): Promise<ImageBitmap> {
  const img = await createImageBitmap(await (await fetch('/__shared/faces/london/neutral_front/001_03.jpg')).blob());
  const c = new OffscreenCanvas(640, 360);
  const x = c.getContext('2d')!;
  x.fillStyle = '#777';
  x.fillRect(0, 0, 640, 360);
  x.drawImage(img, 140, 0, 360, 360);
  img.close();
  return c.transferToImageBitmap();
}

function pixels(b: ImageBitmap): Uint8ClampedArray {
  const c = new OffscreenCanvas(b.width, b.height);
  const x = c.getContext('2d', { willReadFrequently: true })!;
  x.drawImage(b, 0, 0);
  return x.getImageData(0, 0, b.width, b.height).data;
}

describe('AvatarPainter (detector → tracker → translator → compositor)', function () {
  this.timeout(120_000);

  for (const presentation of ['face-swap', 'full-avatar'] as const) {
    it(`${presentation}: frame size kept, face replaced, no tensor leaks across frames or after dispose`, async () => {
      await tf.setBackend('wasm');
      const base = tf.memory().numTensors;
      let t = 0;
      const p = new AvatarPainter(await PaintNet.load('/test/fixtures/anime-tiny/'), await FaceFinder.create(FINDER), presentation, { now: () => t });
      const input = await frame();
      const raw = pixels(input);
      const afterLoad = tf.memory().numTensors;
      let out: ImageBitmap | null = null;
      for (let i = 0; i < 12; i++) {
        t = (i * 1000) / 30;
        out?.close();
        out = await p.paint(input);
        expect(tf.memory().numTensors).to.equal(afterLoad);
      }
      expect([out!.width, out!.height]).to.deep.equal([640, 360]);
      const o = pixels(out!);
      // Around the eyes and nose (frame centre, a little above): not the camera's pixels.
      let d = 0, n = 0;
      for (let y = 120; y < 200; y++) for (let x = 280; x < 360; x++) {
        const k = 4 * (y * 640 + x);
        d += Math.abs(o[k]! - raw[k]!) + Math.abs(o[k + 1]! - raw[k + 1]!) + Math.abs(o[k + 2]! - raw[k + 2]!);
        n += 3;
      }
      expect(d / n, 'mean |Δ| over the face').to.be.greaterThan(20);
      for (const v of Object.values(p.lastMs)) expect(v).to.be.at.least(0);
      out!.close();
      input.close();
      p.dispose();
      expect(tf.memory().numTensors).to.equal(base);
    });
  }

  it('translator side: steps down when even the largest stride cannot spread one translation, back up with room', () => {
    const B = 1000 / 30; // budget; the translator's share is half of it, its largest stride 6
    const sides = TRANSLATE_SIDES;
    expect(sides[0]).to.equal(128);
    expect(translatorSide(sides, 0, null, B)).to.equal(0);
    expect(translatorSide(sides, 0, 60, B)).to.equal(0);            // 60 ms ≤ 6 × 16.7: the stride copes
    expect(translatorSide(sides, 0, 130, B)).to.equal(1);           // over 6 strides: smaller side
    expect(translatorSide(sides, 1, 130, B)).to.equal(1);           // the smallest stays
    expect(translatorSide(sides, 1, 50, B)).to.equal(1);            // 50 at 96 → ~89 at 128: would not fit in 5 strides
    expect(translatorSide(sides, 1, 40, B)).to.equal(0);            // 40 at 96 → ~71 at 128 ≤ 5 × 16.7: back up
    // no oscillation: a cost that steps down at 128 does not step back up at 96
    for (const ms128 of [101, 120, 200, 400]) {
      const at96 = ms128 * (96 / 128) ** 2;
      expect(translatorSide(sides, 0, ms128, B), `${ms128}`).to.equal(1);
      expect(translatorSide(sides, 1, at96, B), `${ms128}`).to.equal(1);
    }
  });
});
