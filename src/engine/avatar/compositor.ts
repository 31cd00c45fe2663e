import type { CropBox } from './alignment';
import type { TrackedCrop } from './crop-tracker';
import { composeFaceSwap, FrameBlur, type FacePlace } from '../../shared/face-swap';

export type Presentation = 'face-swap' | 'full-avatar';
/** What the full avatar stands in front of: the blurred room, a flat colour, or a painted scene. */
export type BackdropKind = 'blur' | 'colour' | 'scene';
export interface Backdrop {
  kind: BackdropKind;
  /** '#rrggbb': the flat colour, and the scene's tint. */
  colour: string;
}
export const DEFAULT_BACKDROP: Backdrop = { kind: 'blur', colour: '#6b8fb3' };

/**
 * The full avatar's head-and-shoulders cut-out, in fractions of the portrait's side: a head
 * ellipse over rounded shoulders at the bottom edge, both feathered over FEATHER, so the
 * portrait has no tile edges.
 */
const HEAD = { cx: 0.5, cy: 0.44, rx: 0.36, ry: 0.44 } as const;
const SHOULDERS = { top: 0.74, halfWidth: 0.47, round: 0.16 } as const;
const FEATHER = 0.07;

/** Feathered ellipse: full inside `inner` (fraction of the radius), 0 past the crop's edge. */
const MASK_INNER = 0.72;
const MASK_RX = 0.42; // of the crop side: a face is narrower than tall
const MASK_RY = 0.5;
/** Colour matching uses the ring between these radii (fractions of the ellipse). */
const RING = [0.8, 1.0] as const;

function canvas(w: number, h: number): OffscreenCanvas {
  return new OffscreenCanvas(Math.max(1, w), Math.max(1, h));
}

function ctx2d(c: OffscreenCanvas, read = false): OffscreenCanvasRenderingContext2D {
  const x = c.getContext('2d', { willReadFrequently: read });
  if (!x) throw new Error('no 2D canvas context in this worker');
  return x;
}

/** Samples the aligned square crop `c` of `frame` into a size×size image (rotation undone). */
export function extractCrop(frame: CanvasImageSource, c: CropBox, size: number, into?: OffscreenCanvas): ImageData {
  const cv = into ?? canvas(size, size);
  if (cv.width !== size || cv.height !== size) {
    cv.width = size;
    cv.height = size;
  }
  const x = ctx2d(cv, true);
  x.setTransform(1, 0, 0, 1, 0, 0);
  const s = size / c.size;
  // crop pixel p ← frame pixel: centre + R(roll) · (p − size/2) / s
  x.translate(size / 2, size / 2);
  x.scale(s, s);
  x.rotate(-c.roll);
  x.translate(-c.cx, -c.cy);
  x.imageSmoothingQuality = 'medium';
  // Where the crop leaves the frame (a face at its edge): the frame enlarged 3× around itself
  // underneath, a smooth continuation of its edges, instead of a flat colour.
  const fw = (frame as { width: number }).width;
  const fh = (frame as { height: number }).height;
  x.drawImage(frame, -fw, -fh, 3 * fw, 3 * fh);
  x.drawImage(frame, 0, 0);
  x.setTransform(1, 0, 0, 1, 0, 0);
  return x.getImageData(0, 0, size, size);
}

/** The ellipse coordinate of crop pixel (i, j) of a size×size crop: 1 on the ellipse. */
function ellipseRadius(i: number, j: number, size: number): number {
  const u = (i + 0.5) / size - 0.5;
  const v = (j + 0.5) / size - 0.5;
  return Math.hypot(u / MASK_RX, v / MASK_RY);
}

function smoothstep(e0: number, e1: number, x: number): number {
  const t = Math.min(1, Math.max(0, (x - e0) / (e1 - e0)));
  return t * t * (3 - 2 * t);
}

/**
 * The avatar prepared for pasting: alpha is the feathered ellipse, and towards the rim its
 * colours are shifted by the difference between the frame's and the avatar's mean colour on the
 * ring, so the seam takes the skin and light of the frame around it.
 */
export function featheredAvatar(avatar: ImageData, source: ImageData | null): ImageData {
  const n = avatar.width;
  if (avatar.height !== n || (source && (source.width !== n || source.height !== n))) {
    throw new Error(`featheredAvatar: expected square images of one size, got ${avatar.width}×${avatar.height} and ${source?.width}×${source?.height}`);
  }
  const a = avatar.data;
  const shift = [0, 0, 0];
  if (source) {
    const sum = [0, 0, 0, 0, 0, 0];
    let count = 0;
    for (let j = 0; j < n; j++) {
      for (let i = 0; i < n; i++) {
        const r = ellipseRadius(i, j, n);
        if (r < RING[0] || r > RING[1]) continue;
        const k = 4 * (j * n + i);
        for (let ch = 0; ch < 3; ch++) {
          sum[ch]! += source.data[k + ch]!;
          sum[3 + ch]! += a[k + ch]!;
        }
        count++;
      }
    }
    if (count > 0) for (let ch = 0; ch < 3; ch++) shift[ch] = (sum[ch]! - sum[3 + ch]!) / count;
  }
  const out = new ImageData(n, n);
  const o = out.data;
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < n; i++) {
      const r = ellipseRadius(i, j, n);
      const k = 4 * (j * n + i);
      const edge = smoothstep(MASK_INNER * 0.6, RING[0], r); // 0 in the middle of the face, 1 on the ring
      for (let ch = 0; ch < 3; ch++) o[k + ch] = a[k + ch]! + edge * shift[ch]!;
      o[k + 3] = 255 * (1 - smoothstep(MASK_INNER, 1, r));
    }
  }
  return out;
}

/** Alpha (0-1) of the head-and-shoulders cut-out at portrait pixel (i, j) of an n×n portrait. */
export function portraitAlpha(i: number, j: number, n: number): number {
  const u = (i + 0.5) / n;
  const v = (j + 0.5) / n;
  // signed distance-like measures, 0 on the shape's edge, > 0 inside (in fractions of the side)
  const head = (1 - Math.hypot((u - HEAD.cx) / HEAD.rx, (v - HEAD.cy) / HEAD.ry)) * Math.min(HEAD.rx, HEAD.ry);
  const dx = Math.max(0, Math.abs(u - 0.5) - (SHOULDERS.halfWidth - SHOULDERS.round));
  const dy = Math.max(0, SHOULDERS.top + SHOULDERS.round - v);
  const shoulders = SHOULDERS.round - Math.hypot(dx, dy);
  // the bottom edge of the portrait is the bottom of the frame: no feather there
  const bottom = 1 - v + FEATHER;
  const inside = Math.min(Math.max(head, shoulders), Math.min(u, 1 - u) - FEATHER / 2, bottom);
  return smoothstep(-FEATHER / 2, FEATHER / 2, inside);
}

/** The cut-out's alpha (0-255) for an n×n portrait, row-major; computed once per size. */
const portraitMasks = new Map<number, Uint8ClampedArray>();
function portraitMask(n: number): Uint8ClampedArray {
  let m = portraitMasks.get(n);
  if (!m) {
    m = new Uint8ClampedArray(n * n);
    for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) m[j * n + i] = Math.round(255 * portraitAlpha(i, j, n));
    portraitMasks.set(n, m);
  }
  return m;
}

/** The avatar cut out as a head-and-shoulders portrait (alpha from {@link portraitAlpha}). */
export function portraitAvatar(avatar: ImageData): ImageData {
  const n = avatar.width;
  if (avatar.height !== n) throw new Error(`portraitAvatar: expected a square avatar, got ${avatar.width}×${avatar.height}`);
  const out = new ImageData(new Uint8ClampedArray(avatar.data), n, n);
  const mask = portraitMask(n);
  for (let p = 0; p < n * n; p++) out.data[4 * p + 3] = mask[p]!;
  return out;
}

function parseColour(c: string): [number, number, number] {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(c);
  if (!m) throw new Error(`backdrop colour: expected '#rrggbb', got '${c}'`);
  return [parseInt(m[1]!, 16), parseInt(m[2]!, 16), parseInt(m[3]!, 16)];
}

/** A small deterministic random source (mulberry32), so a scene is the same on every frame. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A painted scene, drawn once per size and tint: a sky graded from the tint to a warm light,
 * two rows of hills, and a few thousand short translucent brush strokes that give it a canvas
 * texture. Nothing of the camera is in it.
 */
export function paintScene(c: OffscreenCanvas, w: number, h: number, tint: string): void {
  c.width = Math.max(1, w);
  c.height = Math.max(1, h);
  const x = ctx2d(c);
  const [r, g, b] = parseColour(tint);
  const mix = (t: number, to: [number, number, number]): string =>
    `rgb(${Math.round(r + (to[0] - r) * t)},${Math.round(g + (to[1] - g) * t)},${Math.round(b + (to[2] - b) * t)})`;
  const sky = x.createLinearGradient(0, 0, 0, h);
  sky.addColorStop(0, mix(0.15, [255, 255, 255]));
  sky.addColorStop(0.65, mix(0.55, [250, 214, 170]));
  x.fillStyle = sky;
  x.fillRect(0, 0, w, h);
  const rnd = random(0x5eed);
  const hill = (base: number, amp: number, colour: string): void => {
    x.beginPath();
    x.moveTo(0, h);
    const p1 = rnd() * 6, p2 = rnd() * 6;
    for (let i = 0; i <= 64; i++) {
      const t = i / 64;
      x.lineTo(t * w, h * (base - amp * (0.6 * Math.sin(t * 5 + p1) + 0.4 * Math.sin(t * 11 + p2))));
    }
    x.lineTo(w, h);
    x.closePath();
    x.fillStyle = colour;
    x.fill();
  };
  hill(0.7, 0.06, mix(0.45, [96, 128, 104]));
  hill(0.82, 0.05, mix(0.6, [58, 86, 66]));
  // brush texture: strokes tinted like the pixels under them, lighter or darker
  const strokes = Math.round((w * h) / 160);
  x.lineCap = 'round';
  for (let k = 0; k < strokes; k++) {
    const px = rnd() * w, py = rnd() * h;
    const len = (0.01 + 0.025 * rnd()) * w;
    const ang = -0.4 + 0.8 * rnd();
    const light = rnd() < 0.5;
    x.strokeStyle = light ? 'rgba(255,250,240,0.06)' : 'rgba(40,50,60,0.035)';
    x.lineWidth = Math.max(1.5, (0.004 + 0.006 * rnd()) * w);
    x.beginPath();
    x.moveTo(px, py);
    x.lineTo(px + len * Math.cos(ang), py + len * Math.sin(ang));
    x.stroke();
  }
}

/**
 * Puts the avatar into the frame: `face-swap` pastes it over the face at the tracked crop,
 * `full-avatar` shows a head-and-shoulders portrait standing on the frame's bottom edge, centred,
 * over the chosen backdrop (the blurred frame, a flat colour or a painted scene). Without a crop
 * (no face, or faded out) the face-swap frame is only blurred and the full avatar shows its
 * backdrop: the raw face is never shown. Output keeps the frame's size. Owns its canvases; one
 * per pipeline.
 */
export class Compositor {
  private readonly out = canvas(1, 1);
  private readonly blur = new FrameBlur();
  private readonly patch = canvas(1, 1);
  private readonly layer = canvas(1, 1);
  private readonly scene = canvas(1, 1);
  private sceneKey = '';
  /** The last avatar and its cut-out: a new avatar comes only with a translation, not every frame. */
  private portraitOf: { avatar: ImageData; portrait: ImageData } | null = null;
  /** Face swap's feathered avatar, kept while the avatar and the crop it is colour-matched to stay. */
  private featheredOf: { avatar: ImageData; source: ImageData | null; feathered: ImageData } | null = null;

  /** featheredAvatar(avatar, source), computed once per avatar and source. */
  private feathered(avatar: ImageData, source: ImageData | null): ImageData {
    const f = this.featheredOf;
    if (f?.avatar === avatar && f.source === source) return f.feathered;
    const feathered = featheredAvatar(avatar, source);
    this.featheredOf = { avatar, source, feathered };
    return feathered;
  }

  /** `frame`: the camera image; `avatar`: the translated crop (square); `source`: the crop it came from. */
  compose(
    frame: ImageBitmap,
    presentation: Presentation,
    crop: TrackedCrop | null,
    avatar: ImageData | null,
    source: ImageData | null,
    backdrop: Backdrop = DEFAULT_BACKDROP,
  ): ImageBitmap {
    const W = frame.width;
    const H = frame.height;
    if (this.out.width !== W || this.out.height !== H) {
      this.out.width = W;
      this.out.height = H;
    }
    const x = ctx2d(this.out);
    const alpha = crop && avatar ? crop.alpha : 0;
    if (presentation === 'full-avatar') {
      this.drawBackdrop(x, frame, backdrop);
      if (crop && avatar && alpha > 0) {
        // the portrait fills the frame's height (or width, in portrait orientation), standing on its bottom edge
        const side = Math.min(W, H);
        x.globalAlpha = alpha;
        if (this.portraitOf?.avatar !== avatar) this.portraitOf = { avatar, portrait: portraitAvatar(avatar) };
        this.paste(x, this.portraitOf.portrait, (c) => c.drawImage(this.patch, (W - side) / 2, H - side, side, side));
        x.globalAlpha = 1;
      }
    } else {
      const place: FacePlace | null = crop && avatar && alpha > 0 ? { cx: crop.cx, cy: crop.cy, size: crop.size, roll: crop.roll, alpha } : null;
      if (place) this.putPatch(this.feathered(avatar!, source));
      composeFaceSwap(this.out, this.layer, this.blur, frame, W, H, place ? this.patch : null, place);
    }
    return this.out.transferToImageBitmap();
  }

  /**
   * Face swap for a page that pastes the avatar itself: the feathered avatar as a bitmap (its alpha
   * the face ellipse), to be drawn at the crop with composeFaceSwap (src/shared/face-swap.ts).
   */
  facePatch(avatar: ImageData, source: ImageData | null): ImageBitmap {
    this.putPatch(this.feathered(avatar, source));
    return this.patch.transferToImageBitmap();
  }

  private putPatch(image: ImageData): void {
    const p = this.patch;
    if (p.width !== image.width || p.height !== image.height) {
      p.width = image.width;
      p.height = image.height;
    }
    ctx2d(p).putImageData(image, 0, 0);
  }

  private paste(x: OffscreenCanvasRenderingContext2D, image: ImageData, draw: (c: OffscreenCanvasRenderingContext2D) => void): void {
    this.putPatch(image);
    x.save();
    x.imageSmoothingEnabled = true;
    x.imageSmoothingQuality = 'medium';
    draw(x);
    x.restore();
  }

  private drawBackdrop(x: OffscreenCanvasRenderingContext2D, frame: ImageBitmap, b: Backdrop): void {
    if (b.kind === 'blur') {
      this.drawBlurred(x, frame);
    } else if (b.kind === 'colour') {
      parseColour(b.colour);
      x.fillStyle = b.colour;
      x.fillRect(0, 0, frame.width, frame.height);
    } else {
      const key = `${frame.width}x${frame.height}${b.colour}`;
      if (key !== this.sceneKey) {
        paintScene(this.scene, frame.width, frame.height, b.colour);
        this.sceneKey = key;
      }
      x.drawImage(this.scene, 0, 0);
    }
  }

  private drawBlurred(x: OffscreenCanvasRenderingContext2D, frame: ImageBitmap): void {
    this.blur.draw(x, frame, frame.width, frame.height);
  }

  dispose(): void {
    this.sceneKey = '';
    this.portraitOf = null;
    this.featheredOf = null;
    this.blur.dispose();
    for (const c of [this.out, this.patch, this.layer, this.scene]) {
      c.width = 1;
      c.height = 1;
    }
  }
}
