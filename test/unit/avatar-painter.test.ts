import { expect } from '@esm-bundle/chai';
import { londonFrame } from './helpers';

// The engine's avatar chain (src/engine/avatar/avatar-painter.ts) on London faces with the untrained fixture
// translator: output geometry, the face region replaced, and tensors flat over frames and freed.
type Kit = typeof import('../../src/entries/ml-testkit');
const { tf, setWasmPaths, PaintNet, FaceFinder, AvatarPainter, translatorSide, useTranslatorTier, TRANSLATE_SIDES, FULL_TRANSLATOR_MAX_STRIDE } = (await import('/build/ml-testkit.js' as string)) as Kit;
setWasmPaths('/node_modules/@tensorflow/tfjs-backend-wasm/dist/');

const FINDER = { wasm: '/node_modules/@mediapipe/tasks-vision/wasm', model: '/models/face/blaze_face_short_range.tflite' };

const frame = (dim = 0): Promise<ImageBitmap> => londonFrame(dim);

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

  it('translator tier: runs when the full translator cannot keep its stride, back with room to spare', () => {
    const share = 0.5 * (1000 / 30); // 16.7 ms of the budget
    const max = FULL_TRANSLATOR_MAX_STRIDE;
    expect(useTranslatorTier(false, null, 0.3, share)).to.equal(false);       // nothing measured yet
    expect(useTranslatorTier(false, 0.9 * share * max, 0.3, share)).to.equal(false);
    expect(useTranslatorTier(false, 1.1 * share * max, 0.3, share)).to.equal(true);
    // on the tier, its cost / ratio estimates the full translator's
    expect(useTranslatorTier(true, 0.3 * 1.1 * share * max, 0.3, share)).to.equal(true);
    expect(useTranslatorTier(true, 0.3 * 0.9 * share * max, 0.3, share)).to.equal(true);   // within the margin: stays
    expect(useTranslatorTier(true, 0.3 * 0.7 * share * max, 0.3, share)).to.equal(false);  // room to spare: back
    // no flip-flop: a cost that sends the full translator to the tier does not bring it back
    for (const k of [1.01, 1.2, 2, 5]) {
      const full = k * share * max;
      expect(useTranslatorTier(false, full, 0.3, share), `${k}`).to.equal(true);
      expect(useTranslatorTier(true, 0.3 * full, 0.3, share), `${k}`).to.equal(true);
    }
    expect(useTranslatorTier(false, 100, 0, share), 'unmeasured ratio').to.equal(false);
  });

  it('with a translator tier: the tier runs when the full one is too slow, kernels timed at warm-up, both freed', async () => {
    await tf.setBackend('wasm');
    const base = tf.memory().numTensors;
    let t = 0;
    const full = await PaintNet.load('/test/fixtures/anime-tiny/');
    const tier = await PaintNet.load('/test/fixtures/anime-tiny/');
    // a 2-ms budget: no translator fits in it at stride 1
    const p = new AvatarPainter(full, await FaceFinder.create(FINDER), 'face-swap', { now: () => t, budgetMs: 2, tier: { name: 'tiny', model: tier } });
    const ms = await p.timeTranslators();
    expect(ms.full).to.be.greaterThan(0);
    expect(ms.tier).to.be.greaterThan(0);
    expect(p.tierRatio).to.be.within(0, 1);
    const afterLoad = tf.memory().numTensors;
    // the face changes every frame (light), so the smoother does not hold the drawing
    const inputs = [await frame(), await frame(0.3)];
    const seen = new Set<string>();
    for (let i = 0; i < 16; i++) {
      t = (i * 1000) / 30;
      (await p.paint(inputs[i % 2]!)).close();
      seen.add(p.tier);
      expect(tf.memory().numTensors).to.equal(afterLoad);
    }
    expect(p.onTier).to.equal(true);
    expect([...seen].some((s) => s.includes('-tiny')), [...seen].join(', ')).to.equal(true);
    for (const b of inputs) b.close();
    p.dispose();
    expect(tf.memory().numTensors).to.equal(base);
  });

  it('face swap for a page that pastes: the feathered avatar and its place at the face, nothing without a face', async () => {
    await tf.setBackend('wasm');
    let t = 0;
    const p = new AvatarPainter(await PaintNet.load('/test/fixtures/anime-tiny/'), await FaceFinder.create(FINDER), 'face-swap', { now: () => t, paste: true });
    const input = await frame();
    let out: ImageBitmap | null = null;
    for (let i = 0; i < 4; i++) {
      t = (i * 1000) / 30;
      out?.close();
      out = await p.paint(input);
    }
    expect([out!.width, out!.height], 'the avatar, not a frame').to.deep.equal([128, 128]);
    const place = p.place!;
    expect(place, 'placed').to.not.equal(null);
    // the portrait sits at x 140-500 of the frame: its face in the middle, about a third of it wide
    expect(place.cx).to.be.within(280, 360);
    expect(place.cy).to.be.within(100, 260);
    expect(place.size).to.be.within(80, 360);
    expect(place.alpha).to.be.within(0, 1);
    // feathered: opaque in the middle, transparent at the corners
    const px = pixels(out!);
    expect(px[4 * (64 * 128 + 64) + 3]).to.equal(255);
    expect(px[3]).to.equal(0);
    out!.close();
    input.close();
    // no face: no place (the page blurs its frame)
    const grey = await createImageBitmap(new ImageData(new Uint8ClampedArray(640 * 360 * 4).fill(128), 640, 360));
    for (let i = 0; i < 40 && p.place !== null; i++) {
      t += 1000;
      (await p.paint(grey)).close();
    }
    expect(p.place).to.equal(null);
    // a whole frame again in full avatar
    p.presentation = 'full-avatar';
    const again = await p.paint(grey);
    expect([again.width, again.height]).to.deep.equal([640, 360]);
    expect(p.place).to.equal(undefined);
    again.close();
    grey.close();
    p.dispose();
  });
});
