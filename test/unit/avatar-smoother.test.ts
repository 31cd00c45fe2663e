import { expect } from '@esm-bundle/chai';
import { AvatarSmoother } from '../../src/engine/avatar/avatar-smoother';

const N = 64;

/** An N×N RGBA image from a per-pixel grey function. */
function image(f: (x: number, y: number) => number): Uint8ClampedArray {
  const d = new Uint8ClampedArray(4 * N * N);
  for (let y = 0; y < N; y++) for (let x = 0; x < N; x++) {
    const v = f(x, y);
    d.set([v, v, v, 255], 4 * (y * N + x));
  }
  return d;
}
const meanAbs = (a: Uint8ClampedArray, b: Uint8ClampedArray, inside = (_x: number, _y: number) => true): number => {
  let s = 0, n = 0;
  for (let y = 0; y < N; y++) for (let x = 0; x < N; x++) {
    if (!inside(x, y)) continue;
    s += Math.abs(a[4 * (y * N + x)]! - b[4 * (y * N + x)]!);
    n++;
  }
  return s / n;
};

describe('AvatarSmoother (translator flicker, in crop coordinates)', () => {
  const face = image((x, y) => 80 + x + y);
  /** The face with camera noise: ±2 grey levels (0.008 of the range, under the floor). */
  const noisy = (k: number): Uint8ClampedArray => image((x, y) => 80 + x + y + (((x * 7 + y * 13 + k * 5) % 5) - 2));

  it('holds the drawing while the input face stays still, noise and all: no re-roll', () => {
    const s = new AvatarSmoother();
    const a = image(() => 100);
    const b = image(() => 160);
    const first = s.apply(face, a, N);
    expect(meanAbs(first, a)).to.equal(0); // the first avatar is shown as it is
    for (let k = 1; k < 12; k++) {
      // raw flicker: 60 grey levels every translation
      const out = s.apply(noisy(k), k % 2 ? b : a, N);
      expect(meanAbs(out, first), `translation ${k}`).to.equal(0);
    }
  });

  it('follows a change of the face at once (where it changed), and only there', () => {
    const s = new AvatarSmoother();
    const a = image(() => 100);
    const b = image(() => 180);
    s.apply(face, a, N);
    // the lower half of the input changes a lot (a mouth opening), the upper half not at all
    const moved = image((x, y) => (y >= N / 2 ? 255 - (80 + x + y) : 80 + x + y));
    const out = s.apply(moved, b, N);
    const lower = (_x: number, y: number): boolean => y >= N / 2 + 12;
    const upper = (_x: number, y: number): boolean => y < N / 2 - 12;
    expect(meanAbs(out, b, lower)).to.be.lessThan(2);  // the new avatar
    expect(meanAbs(out, a, upper)).to.equal(0);         // the shown one, kept
  });

  it('says when a translation would change nothing (the painter then skips the network)', () => {
    const s = new AvatarSmoother();
    expect(s.holds(face, N)).to.equal(false); // nothing shown yet
    s.apply(face, image(() => 100), N);
    expect(s.holds(noisy(3), N)).to.equal(true);
    expect(s.holds(image((x, y) => (y >= N / 2 ? 255 - (80 + x + y) : 80 + x + y)), N)).to.equal(false);
    expect(s.holds(face, 32)).to.equal(false); // another size starts over
  });

  it('lets a slow change add up until the drawing follows it (no avatar held for ever)', () => {
    const s = new AvatarSmoother();
    const a = image(() => 100);
    const b = image(() => 200);
    s.apply(face, a, N);
    // the light rises by 2 grey levels per translation: each step alone is under the floor
    let out = a;
    let steps = 0;
    while (meanAbs(out, a) < 50 && steps < 60) {
      steps++;
      out = s.apply(image((x, y) => 80 + x + y + 2 * steps), b, N);
    }
    expect(steps).to.be.greaterThan(1);   // one step is not enough...
    expect(steps).to.be.lessThan(30);     // ...but 0.012 + 0.04 of change (about 13 levels) is
  });

  it('starts over after reset and on a new size; rejects mismatched images and bad constants', () => {
    const s = new AvatarSmoother();
    s.apply(face, image(() => 0), N);
    s.reset();
    const b = image(() => 200);
    expect(meanAbs(s.apply(face, b, N), b)).to.equal(0);
    expect(() => s.apply(face, new Uint8ClampedArray(4 * 32 * 32), N)).to.throw(/64×64 RGBA/);
    expect(() => new AvatarSmoother(1)).to.throw(RangeError);
    expect(() => new AvatarSmoother(0.01, 0)).to.throw(RangeError);
  });
});
