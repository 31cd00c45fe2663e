import { expect } from '@esm-bundle/chai';
import type { CropBox } from '../../src/engine/avatar/alignment';
import { extractCrop } from '../../src/engine/avatar/compositor';
import { FaceLock, LOCK_RELOCK, LOCK_STILL, LOCK_TURN, type CropReader } from '../../src/engine/avatar/face-lock';

// The face lock on a real portrait drawn at known sub-pixel positions and scales: it must follow
// the face's own motion, not the tracker's jitter, and give up when the face is elsewhere.

const W = 640;
const H = 360;
/** Where the portrait's 360-px square sits in the frame when not moved, and its face crop there. */
const BASE = { x: 140, y: 0, side: 360 };
const CROP: CropBox = { cx: 320, cy: 190, size: 220, roll: 0 };

let portrait: ImageBitmap;

/**
 * A frame with the portrait moved by (dx, dy), scaled by `s` and turned by `turn` radians (the
 * crop's roll convention: its x axis along (cos, sin) in the frame) about the crop's centre.
 */
function frame(dx: number, dy: number, s = 1, turn = 0): OffscreenCanvas {
  const c = new OffscreenCanvas(W, H);
  const x = c.getContext('2d')!;
  x.fillStyle = '#777';
  x.fillRect(0, 0, W, H);
  x.imageSmoothingEnabled = true;
  x.imageSmoothingQuality = 'low'; // bilinear: the drawn position is exact to the sub-pixel
  x.translate(CROP.cx + dx, CROP.cy + dy);
  x.rotate(turn);
  x.scale(s, s);
  x.drawImage(portrait, BASE.x - CROP.cx, BASE.y - CROP.cy, BASE.side, BASE.side);
  return c;
}

/** How far (px) a box's rim lies from the crop `want`'s: the turn's error times half the side. */
const rimError = (b: CropBox, want: CropBox): number => Math.abs(b.roll - want.roll) * want.size / 2;

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

  it('a still face: the box stays put while the tracker\'s crop wanders (steps under 0.5 px and 0.2%)', () => {
    const lock = new FaceLock();
    const f = reader(frame(0, 0));
    lock.setReference(f, CROP);
    const r = jitter(7, 0.5);
    let worstTracker = 0;
    let worstLock = 0;
    const t = { ...CROP };
    for (let i = 0; i < 30; i++) {
      t.cx += r(); t.cy += r(); t.size *= 1 + r() / 250;
      const b = lock.follow(f, t);
      worstTracker = Math.max(worstTracker, Math.hypot(t.cx - CROP.cx, t.cy - CROP.cy));
      worstLock = Math.max(worstLock, Math.hypot(b.cx - CROP.cx, b.cy - CROP.cy), Math.abs(b.size - CROP.size));
    }
    expect(worstTracker, 'the tracker\'s crop wandered').to.be.greaterThan(1);
    expect(worstLock, 'largest move of the locked box (px)').to.be.below(0.1);
    expect(lock.lost).to.equal(0);
  });

  it('a moving head (the tracker\'s crop moved more than LOCK_STILL of its side): the tracker\'s crop, lock dropped', () => {
    const lock = new FaceLock();
    const f = reader(frame(0, 0));
    lock.setReference(f, CROP);
    expect(lock.follow(f, CROP).cx).to.be.closeTo(CROP.cx, 0.1);
    const moved = { ...CROP, cx: CROP.cx + 2 * LOCK_STILL * CROP.size };
    expect(lock.follow(f, moved)).to.deep.equal(moved);
    expect(lock.locked).to.equal(false);
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
      expect(rimError(b, CROP), `roll ${b.roll}`).to.be.below(0.15);
    });
  }

  for (const deg of [1.5, -3]) {
    // the same 0.15 px, at the crop's rim: the turn's error times half the side
    it(`follows the face turned by ${deg}° (the tracker's roll unchanged) to within 0.15 px at the rim`, () => {
      const lock = new FaceLock();
      lock.setReference(reader(frame(0, 0)), CROP);
      const turn = (deg * Math.PI) / 180;
      const b = lock.follow(reader(frame(0.4, -0.3, 1, turn)), CROP);
      expect(rimError(b, { ...CROP, roll: turn }), `roll ${b.roll}, want ${turn}`).to.be.below(0.15);
      expect(Math.abs(b.cx - (CROP.cx + 0.4)), `cx ${b.cx}`).to.be.below(0.15);
      expect(Math.abs(b.cy - (CROP.cy - 0.3)), `cy ${b.cy}`).to.be.below(0.15);
      expect(lock.locked).to.equal(true);
    });
  }

  it('a still face while the tracker\'s roll swings by ±4° (the eye keypoints\' wobble): the box does not turn', () => {
    const lock = new FaceLock();
    const f = reader(frame(0, 0));
    lock.setReference(f, CROP);
    const r = jitter(11, 0.07);
    let worst = 0;
    for (let i = 0; i < 20; i++) {
      const b = lock.follow(f, { ...CROP, roll: r() });
      worst = Math.max(worst, rimError(b, CROP));
    }
    expect(worst, 'largest turn of the locked box, at the rim (px)').to.be.below(0.1);
    expect(lock.lost).to.equal(0);
  });

  it('gives up when the tracker\'s roll is more than LOCK_TURN from the face it registers', () => {
    const lock = new FaceLock();
    const f = reader(frame(0, 0));
    lock.setReference(f, CROP);
    const far = { ...CROP, roll: 1.5 * LOCK_TURN };
    expect(lock.follow(f, far)).to.deep.equal(far);
    expect(lock.locked).to.equal(false);
    expect(lock.lost).to.equal(1);
  });

  it('a reference read on one frame and used frames later (a translation that came back late) registers against its own crop', () => {
    const lock = new FaceLock();
    const ref = lock.reference(reader(frame(0, 0)), CROP);
    // meanwhile the face moved and the lock had no reference: the tracker's crop
    expect(lock.follow(reader(frame(1.5, -1, 1)), CROP)).to.deep.equal({ ...CROP });
    lock.use(ref);
    expect(lock.locked).to.equal(true);
    // now the face is found where it is, relative to the crop the reference was read at
    const b = lock.follow(reader(frame(1.5, -1, 1)), CROP);
    expect(Math.abs(b.cx - (CROP.cx + 1.5)), `cx ${b.cx}`).to.be.below(0.15);
    expect(Math.abs(b.cy - (CROP.cy - 1)), `cy ${b.cy}`).to.be.below(0.15);
  });

  it('gives up when its box ends far from the tracker\'s crop, and follows the tracker until the next reference', () => {
    const lock = new FaceLock();
    lock.setReference(reader(frame(0, 0)), CROP);
    // the tracker stays put, but the face the lock registers is past LOCK_RELOCK of the side away
    // (in steps under LOCK_STILL: the lock follows it until it strays too far)
    let gaveUp = false;
    for (let k = 1; k <= 20 && !gaveUp; k++) {
      const dx = k * 0.25 * LOCK_RELOCK * CROP.size;
      const b = lock.follow(reader(frame(dx, 0)), CROP);
      gaveUp = !lock.locked;
      if (gaveUp) expect(b).to.deep.equal(CROP);
      else expect(b.cx).to.be.closeTo(CROP.cx + dx, 0.5);
    }
    expect(gaveUp).to.equal(true);
    expect(lock.lost).to.equal(1);
    expect(lock.locked).to.equal(false);
    const next = { ...CROP, cy: CROP.cy + 0.5 };
    expect(lock.follow(reader(frame(0, 0)), next)).to.deep.equal(next);
  });
});
