import { expect } from '@esm-bundle/chai';
import { Compositor, extractCrop, featheredAvatar, portraitAlpha } from '../../src/engine/avatar/compositor';
import type { TrackedCrop } from '../../src/engine/avatar/crop-tracker';

const W = 320, H = 180;

/** A fine checkerboard (the "raw camera": any part of it that survives shows as high local contrast). */
function checker(w = W, h = H, cell = 4): Promise<ImageBitmap> {
  const d = new ImageData(w, h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const on = (Math.floor(x / cell) + Math.floor(y / cell)) % 2 === 0;
    const k = 4 * (y * w + x);
    d.data.set(on ? [230, 200, 170, 255] : [40, 30, 20, 255], k);
  }
  return createImageBitmap(d);
}

function solid(n: number, rgb: [number, number, number]): ImageData {
  const d = new ImageData(n, n);
  for (let k = 0; k < n * n; k++) d.data.set([...rgb, 255], 4 * k);
  return d;
}

function pixels(b: ImageBitmap): ImageData {
  const c = new OffscreenCanvas(b.width, b.height);
  const x = c.getContext('2d', { willReadFrequently: true })!;
  x.drawImage(b, 0, 0);
  return x.getImageData(0, 0, b.width, b.height);
}

const at = (d: ImageData, x: number, y: number): number[] => Array.from(d.data.subarray(4 * (y * d.width + x), 4 * (y * d.width + x) + 3));

/** Mean absolute difference between horizontal neighbours in a box: high for the raw checker. */
function contrast(d: ImageData, x0: number, y0: number, x1: number, y1: number): number {
  let s = 0, n = 0;
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1 - 1; x++) {
    s += Math.abs(d.data[4 * (y * d.width + x)]! - d.data[4 * (y * d.width + x + 1)]!);
    n++;
  }
  return s / n;
}

const crop = (o: Partial<TrackedCrop> = {}): TrackedCrop => ({ cx: 160, cy: 90, size: 120, roll: 0, alpha: 1, state: 'tracking', ...o });

describe('anime compositor', () => {
  it('extracts the aligned crop: centre, scale and roll', async () => {
    // A frame whose left half is red and right half blue, with a green dot at (200, 60).
    const c = new OffscreenCanvas(W, H);
    const x = c.getContext('2d')!;
    x.fillStyle = 'rgb(255,0,0)'; x.fillRect(0, 0, W / 2, H);
    x.fillStyle = 'rgb(0,0,255)'; x.fillRect(W / 2, 0, W / 2, H);
    x.fillStyle = 'rgb(0,255,0)'; x.fillRect(196, 56, 8, 8);
    const f = c.transferToImageBitmap();
    const straight = extractCrop(f, { cx: 200, cy: 60, size: 32, roll: 0 }, 64);
    expect(at(straight, 32, 32)[1]).to.be.greaterThan(200); // the dot in the middle, 4× larger
    expect(at(straight, 32, 2)[1]).to.be.lessThan(50);
    // Roll +90°: the eyes' line points down the frame, so the chin points to the frame's left
    // and the top of the head to its right; the upright crop has blue at the top, red below.
    const turned = extractCrop(f, { cx: 160, cy: 90, size: 40, roll: Math.PI / 2 }, 40);
    expect(at(turned, 20, 2)[2]).to.be.greaterThan(200);
    expect(at(turned, 20, 37)[0]).to.be.greaterThan(200);
    f.close();
  });

  it('feathers the avatar with an ellipse and moves its rim towards the frame colour', () => {
    const n = 64;
    const avatar = solid(n, [0, 200, 0]);
    const source = solid(n, [200, 100, 50]);
    const out = featheredAvatar(avatar, source);
    const centre = 4 * (32 * n + 32);
    expect(Array.from(out.data.subarray(centre, centre + 4))).to.deep.equal([0, 200, 0, 255]); // untouched middle
    expect(out.data[3]).to.equal(0); // the corner is outside the ellipse
    // On the ring (ellipse radius ~0.9, on the horizontal axis): colour matched to the frame, half transparent-ish.
    const i = Math.round(32 + 0.9 * 0.42 * n), k = 4 * (32 * n + i);
    expect(out.data[k]).to.be.greaterThan(150);
    expect(out.data[k + 1]).to.be.lessThan(130);
    expect(out.data[k + 3]).to.be.within(1, 254);
  });

  it('face swap: avatar over the face, the rest of the frame as it was, same size', async () => {
    const f = await checker();
    const out = new Compositor().compose(f, 'face-swap', crop(), solid(128, [0, 200, 0]), solid(128, [135, 115, 95]));
    expect([out.width, out.height]).to.deep.equal([W, H]);
    const p = pixels(out);
    const mid = at(p, 160, 90);
    expect(mid[1]).to.be.greaterThan(180);
    expect(mid[0]).to.be.lessThan(30);
    expect(contrast(p, 160 - 20, 90 - 20, 160 + 20, 90 + 20)).to.be.lessThan(5); // no raw face inside
    expect(contrast(p, 0, 0, 40, 40)).to.be.greaterThan(40); // the untouched frame outside (raw checker: 47)
    out.close();
    f.close();
  });

  it('no face (or faded out): only the blurred frame, never the raw one', async () => {
    const f = await checker();
    const c = new Compositor();
    for (const [presentation, cr] of [['face-swap', null], ['full-avatar', null], ['face-swap', crop({ alpha: 0 })]] as const) {
      const out = c.compose(f, presentation, cr, cr ? solid(128, [0, 200, 0]) : null, null);
      const p = pixels(out);
      expect([out.width, out.height]).to.deep.equal([W, H]);
      expect(contrast(p, 0, 0, W, H), presentation).to.be.lessThan(8);
      out.close();
    }
    f.close();
  });

  it('while fading, the face region never shows more of the raw frame than at full strength', async () => {
    const f = await checker();
    const c = new Compositor();
    const inner = (a: number): number => {
      const out = c.compose(f, 'face-swap', crop({ alpha: a, state: 'fading' }), solid(128, [0, 200, 0]), null);
      const v = contrast(pixels(out), 140, 70, 180, 110);
      out.close();
      return v;
    };
    expect(inner(1)).to.be.lessThan(5);
    expect(inner(0.5)).to.be.lessThan(5);
    f.close();
  });

  it('full avatar: a head-and-shoulders portrait standing on the bottom edge, soft edges, over the blurred frame', async () => {
    const f = await checker();
    const out = new Compositor().compose(f, 'full-avatar', crop({ cx: 60, cy: 50 }), solid(128, [0, 200, 0]), null);
    const p = pixels(out);
    expect(at(p, 160, 80)[1]).to.be.greaterThan(180);   // the head (portrait: 180 px, x 70-250)
    expect(at(p, 160, H - 2)[1]).to.be.greaterThan(180); // the shoulders reach the bottom edge
    expect(at(p, 10, 90)[1]).to.be.lessThan(180);        // backdrop
    expect(at(p, 74, 10)[1]).to.be.lessThan(120);        // the tile's corner is cut away
    expect(contrast(p, 0, 0, 60, H)).to.be.lessThan(8);  // blurred
    // no tile edge: from the head's centre to outside the portrait, green falls off gradually
    let prev = at(p, 160, 80)[1]!;
    let worst = 0;
    for (let x = 159; x >= 60; x--) {
      const g = at(p, x, 80)[1]!;
      worst = Math.max(worst, Math.abs(g - prev));
      prev = g;
    }
    expect(worst).to.be.lessThan(40);
    out.close();
    f.close();
  });

  it('full avatar backdrops: a flat colour and a painted scene, never the camera, with or without a face', async () => {
    const f = await checker();
    const c = new Compositor();
    for (const cr of [crop(), null]) {
      const flat = c.compose(f, 'full-avatar', cr, cr ? solid(128, [0, 200, 0]) : null, null, { kind: 'colour', colour: '#204080' });
      const pf = pixels(flat);
      expect(at(pf, 5, 5)).to.deep.equal([0x20, 0x40, 0x80]);
      expect(at(pf, W - 5, H - 5)).to.deep.equal([0x20, 0x40, 0x80]);
      flat.close();
      const scene = c.compose(f, 'full-avatar', cr, cr ? solid(128, [0, 200, 0]) : null, null, { kind: 'scene', colour: '#6b8fb3' });
      const ps = pixels(scene);
      // the scene is not the checker (whose neighbours differ by 190) and not flat either
      const side = contrast(ps, 0, 0, 60, H);
      expect(side).to.be.lessThan(8);
      expect(at(ps, 5, 5)).to.not.deep.equal(at(ps, 5, H - 5)); // sky above, hills below
      scene.close();
    }
    expect(() => c.compose(f, 'full-avatar', null, null, null, { kind: 'colour', colour: 'red' })).to.throw(/#rrggbb/);
    f.close();
  });

  it('the portrait cut-out is opaque in the face, transparent at the tile corners and sides, solid on the bottom edge', () => {
    const n = 128;
    expect(portraitAlpha(64, 56, n)).to.equal(1);
    expect(portraitAlpha(0, 0, n)).to.equal(0);
    expect(portraitAlpha(n - 1, 0, n)).to.equal(0);
    expect(portraitAlpha(0, 64, n)).to.equal(0);
    expect(portraitAlpha(64, n - 1, n)).to.equal(1);
  });
});
