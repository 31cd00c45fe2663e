import { expect } from '@esm-bundle/chai';
import { AvatarSmoother } from '../../src/filters/anime/avatar-smoother';

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

  it('calms an avatar that flickers while the input face stays still', () => {
    const s = new AvatarSmoother();
    const a = image(() => 100);
    const b = image(() => 160);
    let prev = s.apply(face, a, N);
    expect(meanAbs(prev, a)).to.equal(0); // the first avatar is shown as it is
    let change = 0;
    for (let k = 1; k < 12; k++) {
      const out = s.apply(face, k % 2 ? b : a, N);
      change = meanAbs(out, prev);
      prev = out;
    }
    // raw flicker: 60 grey levels a translation; smoothed: the 0.7 blend leaves 60·0.3/(1+0.7) ≈ 11
    expect(change).to.be.lessThan(15);
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
    expect(meanAbs(out, b, lower)).to.be.lessThan(2);                 // the new avatar
    expect(meanAbs(out, a, upper)).to.be.closeTo(0.3 * 80, 2);        // 0.7 of the old one kept
  });

  it('starts over after reset and on a new size; rejects mismatched images', () => {
    const s = new AvatarSmoother();
    s.apply(face, image(() => 0), N);
    s.reset();
    const b = image(() => 200);
    expect(meanAbs(s.apply(face, b, N), b)).to.equal(0);
    expect(() => s.apply(face, new Uint8ClampedArray(4 * 32 * 32), N)).to.throw(/64×64 RGBA/);
    expect(() => new AvatarSmoother(1)).to.throw(RangeError);
  });
});
