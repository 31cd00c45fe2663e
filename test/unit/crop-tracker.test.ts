import { expect } from '@esm-bundle/chai';
import { cropFromEyes, CROP_SIDE_PER_EYE_DISTANCE } from '../../src/engine/avatar/alignment';
import { CropTracker, type FaceDetection } from '../../src/engine/avatar/crop-tracker';
import { OneEuroFilter } from '../../src/engine/avatar/one-euro';

/** Seeded normal noise (Box-Muller over a Park-Miller generator). */
function gaussian(seed: number): () => number {
  let s = seed;
  const u = (): number => ((s = (s * 16807) % 2147483647) / 2147483647);
  return () => Math.sqrt(-2 * Math.log(u() + 1e-12)) * Math.cos(2 * Math.PI * u());
}

/** A synthetic BlazeFace-like detection: eyes `d` apart around (x, y), tilted by `roll`. */
function face(x: number, y: number, d = 60, roll = 0, noise = 0, rnd = (): number => 0): FaceDetection {
  const c = Math.cos(roll), s = Math.sin(roll);
  const e = (sx: number): { x: number; y: number } => ({ x: x + sx * c * d / 2 + noise * rnd(), y: y + sx * s * d / 2 + noise * rnd() });
  return { x: x - d, y: y - d * 0.6, width: 2 * d, height: 2 * d, score: 0.95, eyes: [e(-1), e(1)] };
}

const std = (xs: number[]): number => {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / xs.length);
};

describe('anime crop alignment and tracker', () => {
  it('aligns the crop to the eyes: centre below them, side from their distance, roll from their tilt', () => {
    const c = cropFromEyes({ x: 100, y: 100 }, { x: 160, y: 100 });
    expect(c.cx).to.equal(130);
    expect(c.cy).to.be.greaterThan(100);
    expect(c.size).to.be.closeTo(CROP_SIDE_PER_EYE_DISTANCE * 60, 1e-9);
    expect(c.roll).to.equal(0);
    const tilted = face(300, 200, 60, (20 * Math.PI) / 180);
    const t = cropFromEyes(tilted.eyes[1], tilted.eyes[0]); // order does not matter
    expect((t.roll * 180) / Math.PI).to.be.closeTo(20, 1e-6);
    // "Below the eyes" follows the head's tilt.
    expect(t.cx).to.be.lessThan(300);
  });

  it('One Euro: a constant passes unchanged; smoothing follows a step within a few frames', () => {
    const f = new OneEuroFilter(1, 0.02);
    for (let i = 0; i < 10; i++) expect(f.filter(5, i / 30)).to.equal(5);
    let v = 0;
    for (let i = 10; i < 40; i++) v = f.filter(105, i / 30);
    expect(v).to.be.closeTo(105, 1);
  });

  it('reduces the jitter of a still face by more than 2.5× (centre std, 30 fps, 3 px eye noise)', () => {
    const rnd = gaussian(42);
    const tr = new CropTracker(640, 360);
    const raw: number[][] = [[], []];
    const out: number[][] = [[], []];
    for (let i = 0; i < 300; i++) {
      const f = face(320, 170, 50, 0, 3, rnd);
      const r = cropFromEyes(f.eyes[0], f.eyes[1]);
      const c = tr.update([f], (i * 1000) / 30)!;
      if (i < 90) continue; // settled
      raw[0]!.push(r.cx); raw[1]!.push(r.cy);
      out[0]!.push(c.cx); out[1]!.push(c.cy);
    }
    for (const k of [0, 1]) expect(std(out[k]!), `axis ${k}: raw ${std(raw[k]!)}`).to.be.lessThan(std(raw[k]!) / 2.5);
  });

  it('follows a moving head with bounded lag (200 px/s, noise on: under 15 px)', () => {
    const rnd = gaussian(7);
    const tr = new CropTracker(1280, 720);
    let worst = 0;
    for (let i = 0; i < 90; i++) {
      const x = 300 + (200 * i) / 30;
      const c = tr.update([face(x, 360, 50, 0, 2, rnd)], (i * 1000) / 30)!;
      if (i > 15) worst = Math.max(worst, Math.abs(c.cx - x));
    }
    expect(worst).to.be.lessThan(15);
  });

  it('two faces: takes the larger, or of equal ones the more central, and keeps it when the other grows a little', () => {
    const a = face(200, 180, 40);
    const b = face(450, 180, 70);
    expect(new CropTracker(640, 360).choose([a, b])).to.equal(b);
    const central = face(330, 180, 50);
    const side = face(80, 100, 50);
    expect(new CropTracker(640, 360).choose([side, central])).to.equal(central);
    const tr = new CropTracker(640, 360);
    tr.update([face(200, 180, 50)], 0);
    const c = tr.update([face(200, 180, 50), face(440, 180, 56)], 33)!;
    expect(c.cx).to.be.lessThan(320);
  });

  it('no face: holds the crop, then fades the avatar out, then reports nothing; a face comes back at once', () => {
    const tr = new CropTracker(640, 360, { holdMs: 500, fadeMs: 500 });
    const first = tr.update([face(320, 180)], 0)!;
    expect(tr.update(null, 100)).to.deep.include({ alpha: 1, cx: first.cx });
    const held = tr.update([], 400)!;
    expect(held.state).to.equal('holding');
    expect(held.alpha).to.equal(1);
    const fading = tr.update([], 750)!;
    expect(fading.state).to.equal('fading');
    expect(fading.alpha).to.be.closeTo(0.5, 1e-9);
    expect(tr.update([], 1001)).to.equal(null);
    expect(tr.update(null, 1100)).to.equal(null);
    // Back: no smoothing from the stale crop, the new position at once.
    const back = tr.update([face(200, 200)], 1200)!;
    expect(back.alpha).to.equal(1);
    expect(back.cx).to.be.closeTo(cropFromEyes(face(200, 200).eyes[0], face(200, 200).eyes[1]).cx, 1e-6);
  });

  it('at the frame edges: stays centred on the face, centre inside the frame, side capped', () => {
    for (const [x, y] of [[630, 180], [5, 5], [320, 355]] as const) {
      const f = face(x, y, 60);
      const want = cropFromEyes(f.eyes[0], f.eyes[1]);
      const c = new CropTracker(640, 360).update([f], 0)!;
      expect(c.cx).to.be.within(0, 640);
      expect(c.cy).to.be.within(0, 360);
      expect(Math.hypot(c.cx - Math.min(640, Math.max(0, want.cx)), c.cy - Math.min(360, Math.max(0, want.cy)))).to.be.lessThan(1e-6);
    }
    // A face right against the camera: the crop is at most twice the frame's short side.
    const huge = new CropTracker(640, 360).update([face(320, 180, 400)], 0)!;
    expect(huge.size).to.equal(720);
    expect([huge.cx, huge.cy]).to.deep.equal([cropFromEyes(face(320, 180, 400).eyes[0], face(320, 180, 400).eyes[1]).cx, Math.min(360, cropFromEyes(face(320, 180, 400).eyes[0], face(320, 180, 400).eyes[1]).cy)]);
  });
});
