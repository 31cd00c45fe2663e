import { expect } from '@esm-bundle/chai';
import type { CropBox } from '../../src/engine/avatar/alignment';
import { extractCrop } from '../../src/engine/avatar/compositor';
import { FaceLock, LOCK_RELOCK, type CropReader } from '../../src/engine/avatar/face-lock';

// The face lock on a real portrait drawn at known sub-pixel positions and scales: it must follow
// the face's own motion, not the tracker's jitter, and give up when the face is elsewhere.

const W = 640;
const H = 360;
/** Where the portrait's 360-px square sits in the frame when not moved, and its face crop there. */
const BASE = { x: 140, y: 0, side: 360 };
const CROP: CropBox = { cx: 320, cy: 190, size: 220, roll: 0 };

let portrait: ImageBitmap;

/** A frame with the portrait moved by (dx, dy) and scaled by `s` about the crop's centre. */
function frame(dx: number, dy: number, s = 1): OffscreenCanvas {
  const c = new OffscreenCanvas(W, H);
  const x = c.getContext('2d')!;
  x.fillStyle = '#777';
  x.fillRect(0, 0, W, H);
  x.imageSmoothingEnabled = true;
  x.imageSmoothingQuality = 'low'; // bilinear: the drawn position is exact to the sub-pixel
  const ox = CROP.cx + (BASE.x - CROP.cx) * s + dx;
  const oy = CROP.cy + (BASE.y - CROP.cy) * s + dy;
  x.drawImage(portrait, ox, oy, BASE.side * s, BASE.side * s);
  return c;
}

const reader = (c: OffscreenCanvas): CropReader => {
  const into = new OffscreenCanvas(1, 1);
  return (box, side) => extractCrop(c, box, side, into).data;
};

/** A deterministic ±amp jitter. */
function jitter(seed: number, amp: number): () => number {
  let a = seed;
  return () => {
    a = (a * 1103515245 + 12345) % 2147483648;
    return (a / 2147483648 - 0.5) * 2 * amp;
  };
}

describe('FaceLock (where the avatar is pasted, below the detector\'s jitter)', function () {
  this.timeout(60_000);

  before(async () => {
    portrait = await createImageBitmap(await (await fetch('/__shared/faces/london/neutral_front/001_03.jpg')).blob());
  });

  it('without a reference it returns the tracker\'s crop', () => {
    const lock = new FaceLock();
    const t = { cx: 321.5, cy: 188.25, size: 221, roll: 0.01 };
    expect(lock.follow(reader(frame(0, 0)), t)).to.deep.equal(t);
    expect(lock.locked).to.equal(false);
  });

  it('a still face: the box stays put while the tracker\'s crop jitters by up to 1.5 px and 1%', () => {
    const lock = new FaceLock();
    const f = reader(frame(0, 0));
    lock.setReference(f, CROP);
    const r = jitter(7, 1.5);
    let worstTracker = 0;
    let worstLock = 0;
    for (let i = 0; i < 20; i++) {
      const t = { cx: CROP.cx + r(), cy: CROP.cy + r(), size: CROP.size * (1 + r() / 150), roll: 0 };
      const b = lock.follow(f, t);
      worstTracker = Math.max(worstTracker, Math.hypot(t.cx - CROP.cx, t.cy - CROP.cy));
      worstLock = Math.max(worstLock, Math.hypot(b.cx - CROP.cx, b.cy - CROP.cy), Math.abs(b.size - CROP.size));
    }
    expect(worstTracker, 'the tracker\'s crop wandered').to.be.greaterThan(1);
    expect(worstLock, 'largest move of the locked box (px)').to.be.below(0.1);
    expect(lock.lost).to.equal(0);
  });

  for (const [dx, dy, s] of [[0.6, -0.4, 1], [-2.5, 1.75, 1], [0.3, 0.2, 1.02], [3, -2, 0.97]] as const) {
    // within 0.15 px: a fifth of the detector's own jitter (0.8 px between frames on still clips)
    it(`follows the face moved by (${dx}, ${dy}) px, scaled ×${s}, to within 0.15 px`, () => {
      const lock = new FaceLock();
      lock.setReference(reader(frame(0, 0)), CROP);
      // the tracker has not caught up: it is still where the face was
      const b = lock.follow(reader(frame(dx, dy, s)), CROP);
      expect(Math.abs(b.cx - (CROP.cx + dx)), `cx ${b.cx}`).to.be.below(0.15);
      expect(Math.abs(b.cy - (CROP.cy + dy)), `cy ${b.cy}`).to.be.below(0.15);
      expect(Math.abs(b.size / CROP.size - s), `size ${b.size}`).to.be.below(0.002);
      expect(b.roll).to.equal(CROP.roll);
    });
  }

  it('gives up when its box ends far from the tracker\'s crop, and follows the tracker until the next reference', () => {
    const lock = new FaceLock();
    lock.setReference(reader(frame(0, 0)), CROP);
    // the face is still where it was, but the tracker says it is elsewhere (another face, a jump)
    const far = { ...CROP, cx: CROP.cx + 2 * LOCK_RELOCK * CROP.size };
    expect(lock.follow(reader(frame(0, 0)), far)).to.deep.equal(far);
    expect(lock.lost).to.equal(1);
    expect(lock.locked).to.equal(false);
    const next = { ...far, cy: far.cy + 0.5 };
    expect(lock.follow(reader(frame(0, 0)), next)).to.deep.equal(next);
  });
});
