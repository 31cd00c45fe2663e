/**
 * Guided upsampling on the page side (the fast guided filter, He & Sun 2015), in plain typed
 * arrays so that it runs wherever the page's pump does (a worker in Chromium, the main thread in
 * Firefox) with no GPU.
 *
 * The engine paints a small picture p (the style network at its internal size) of a small copy
 * of the camera frame. In each (2r+1)² window of the small picture every colour channel of p is
 * fitted as a·I + b on the small camera luminance I; a and b are averaged over the windows
 * (`guidedCoefficients`). `applyGuided` then upsamples a and b bilinearly and applies them to the
 * luminance of a full-size camera frame: where the camera is flat at the small size (its
 * variance under eps: skin, walls, a fine texture the network cannot see) a → 0 and the output
 * is the painting's own colour; along the camera's edges the painting's colours change as
 * sharply as the camera's brightness does. Colours come from the painting alone.
 *
 * Because a and b are smooth, the coefficients of one painted frame can be applied to the
 * luminance of the next few camera frames: the edges follow the live picture (motion
 * compensation for free) while the network paints the next refresh.
 *
 * Same maths as src/engine/ml/guided.ts (tfjs), which the unit test checks this against.
 */

/** Rec. 601 luma weights, as the engine's version uses. */
const KR = 0.299;
const KG = 0.587;
const KB = 0.114;

/** The coefficients of one painted frame: `ab` holds a_r, a_g, a_b, b_r, b_g, b_b per small pixel. */
export interface GuidedCoefficients {
  width: number;
  height: number;
  /** w·h·6 floats: a per colour channel (output per unit of luma, both in [0,1]), then b. */
  ab: Float32Array;
}

/** Options of the fit: window radius (small pixels) and the variance below which a → 0. */
export interface GuidedFit {
  r: number;
  eps: number;
  /**
   * Keep the painting's own strokes: b is the painting minus a·I at each small pixel instead of
   * its window mean, so the output is the painting upscaled plus a times the detail the small
   * camera picture lacks (P + A·(I − Iₛ)). For networks whose strokes are finer than a 3×3 window
   * of small pixels (tiers taught at the output's scale); colours still come from the painting.
   */
  strokes?: boolean;
}

/**
 * Radius 1 (3×3 windows), eps 1e-3: on d0 at 640×360 (udnie's tier at 256 px, monet's full
 * model at 224 px) against the network at full size, luma SSIM / SqueezeNet distance: bilinear
 * 0.801/0.514 and 0.645/0.600, this 0.807/0.515 and 0.706/0.561. Radius 2 smooths udnie's
 * strokes (distance 0.535); adding the painting's own residual back (P + A·(I − Iₛ)) kept the
 * strokes but lost monet's gain (0.644/0.599).
 */
export const DEFAULT_FIT: GuidedFit = { r: 1, eps: 1e-3 };

/**
 * For a painting whose strokes are drawn at the output's scale (a tier taught there): the same
 * fit, keeping the painting's own detail. On the d9 clip (not trained on) at 640×360, the five
 * tiers taught at 2× at 320 px with the painting two frames old, luma SSIM / feature distance
 * against the full network at full size (training/brushcam_train/guided_offline.py): udnie
 * 0.856/0.440 (DEFAULT_FIT 0.857/0.455), great_wave 0.563/0.615 (0.561/0.633), composition_vii
 * 0.577/0.549 (0.575/0.566), the_scream 0.722/0.472 (0.722/0.490), starry_night 0.337/0.647
 * (0.336/0.662). A full network run below its size draws blurred strokes that the fit sharpens:
 * Monet's at 256 px scores 0.667/0.516 this way against 0.720/0.476 with DEFAULT_FIT.
 */
export const STROKES_FIT: GuidedFit = { r: 1, eps: 1e-3, strokes: true };

/**
 * Mean of each of `n` interleaved channels over (2r+1)² windows clipped to the picture (the
 * count is the window's pixels inside it, as tfjs's avgPool 'same'). In place on `x`.
 */
export function boxMeanInPlace(x: Float32Array, w: number, h: number, n: number, r: number): void {
  const row = new Float64Array(w * n);
  const sum = new Float64Array(n);
  // Along each row.
  for (let y = 0; y < h; y++) {
    const base = y * w * n;
    sum.fill(0);
    // the window of column 0: columns 0..r
    for (let c = 0; c <= Math.min(r, w - 1); c++) for (let k = 0; k < n; k++) sum[k]! += x[base + c * n + k]!;
    for (let cx = 0; cx < w; cx++) {
      const lo = Math.max(0, cx - r);
      const hi = Math.min(w - 1, cx + r);
      const count = hi - lo + 1;
      for (let k = 0; k < n; k++) row[cx * n + k] = sum[k]! / count;
      // slide: add column cx+r+1, drop column cx-r
      const add = cx + r + 1;
      const drop = cx - r;
      if (add < w) for (let k = 0; k < n; k++) sum[k]! += x[base + add * n + k]!;
      if (drop >= 0) for (let k = 0; k < n; k++) sum[k]! -= x[base + drop * n + k]!;
    }
    for (let i = 0; i < w * n; i++) x[base + i] = row[i]!;
  }
  // Down each column (all columns of a row at once: contiguous reads).
  const stride = w * n;
  const acc = new Float64Array(stride);
  const col = new Float32Array(h * stride);
  for (let y = 0; y <= Math.min(r, h - 1); y++) for (let i = 0; i < stride; i++) acc[i]! += x[y * stride + i]!;
  for (let cy = 0; cy < h; cy++) {
    const lo = Math.max(0, cy - r);
    const hi = Math.min(h - 1, cy + r);
    const inv = 1 / (hi - lo + 1);
    for (let i = 0; i < stride; i++) col[cy * stride + i] = acc[i]! * inv;
    const add = cy + r + 1;
    const drop = cy - r;
    if (add < h) for (let i = 0; i < stride; i++) acc[i]! += x[add * stride + i]!;
    if (drop >= 0) for (let i = 0; i < stride; i++) acc[i]! -= x[drop * stride + i]!;
  }
  x.set(col);
}

/**
 * Fits the painting `painted` (RGBA bytes, w×h) on the luminance of the camera picture the
 * network was given (`camera`, RGBA bytes, same size).
 */
export function guidedCoefficients(painted: Uint8ClampedArray | Uint8Array, camera: Uint8ClampedArray | Uint8Array, w: number, h: number, fit: GuidedFit = DEFAULT_FIT): GuidedCoefficients {
  const n = w * h;
  if (painted.length < n * 4 || camera.length < n * 4) {
    throw new Error(`guidedCoefficients: expected two ${w}x${h} RGBA pictures (${n * 4} bytes), got ${painted.length} and ${camera.length}`);
  }
  // Per pixel: I, I², p_r, p_g, p_b, I·p_r, I·p_g, I·p_b (all in [0,1]).
  const m = new Float32Array(n * 8);
  for (let i = 0, q = 0, o = 0; i < n; i++, q += 4, o += 8) {
    const I = (KR * camera[q]! + KG * camera[q + 1]! + KB * camera[q + 2]!) / 255;
    const pr = painted[q]! / 255;
    const pg = painted[q + 1]! / 255;
    const pb = painted[q + 2]! / 255;
    m[o] = I;
    m[o + 1] = I * I;
    m[o + 2] = pr;
    m[o + 3] = pg;
    m[o + 4] = pb;
    m[o + 5] = I * pr;
    m[o + 6] = I * pg;
    m[o + 7] = I * pb;
  }
  boxMeanInPlace(m, w, h, 8, fit.r);
  const ab = new Float32Array(n * 6);
  for (let i = 0, o = 0, t = 0; i < n; i++, o += 8, t += 6) {
    const mI = m[o]!;
    const inv = 1 / (m[o + 1]! - mI * mI + fit.eps);
    for (let c = 0; c < 3; c++) {
      const mP = m[o + 2 + c]!;
      const a = (m[o + 5 + c]! - mI * mP) * inv;
      ab[t + c] = a;
      ab[t + 3 + c] = mP - a * mI;
    }
  }
  boxMeanInPlace(ab, w, h, 6, fit.r);
  if (fit.strokes) {
    for (let i = 0, q = 0, t = 0; i < n; i++, q += 4, t += 6) {
      const I = (KR * camera[q]! + KG * camera[q + 1]! + KB * camera[q + 2]!) / 255;
      for (let c = 0; c < 3; c++) ab[t + 3 + c] = painted[q + c]! / 255 - ab[t + c]! * I;
    }
  }
  return { width: w, height: h, ab };
}

/** Source index and weight of each output column/row for bilinear upsampling with half-pixel centres. */
function axis(out: number, src: number): { i0: Int32Array; i1: Int32Array; f: Float32Array } {
  const i0 = new Int32Array(out);
  const i1 = new Int32Array(out);
  const f = new Float32Array(out);
  const scale = src / out;
  for (let x = 0; x < out; x++) {
    const s = Math.min(src - 1, Math.max(0, (x + 0.5) * scale - 0.5));
    const a = Math.floor(s);
    i0[x] = a;
    i1[x] = Math.min(src - 1, a + 1);
    f[x] = s - a;
  }
  return { i0, i1, f };
}

const axes = new Map<string, ReturnType<typeof axis>>();
function axisCached(out: number, src: number): ReturnType<typeof axis> {
  const k = `${out}/${src}`;
  let a = axes.get(k);
  if (!a) {
    if (axes.size > 16) axes.clear();
    a = axis(out, src);
    axes.set(k, a);
  }
  return a;
}

/**
 * The luminance the coefficients are applied to (0..255, W×H): the camera frame's with its two
 * finest octaves taken out (three 3×3 box passes: patterns with a period of 2-4 px, the finest a
 * camera frame holds, such as the tests' raw-only checker, are cut to 1/27; an edge keeps its
 * place and spreads over about 5 px). A pattern the painting cannot draw then stays out of the
 * output even where the painting's neighbourhood follows the camera's brightness (a ≠ 0).
 */
export function guideLuma(camera: Uint8ClampedArray | Uint8Array, W: number, H: number, into?: Float32Array): Float32Array {
  if (camera.length < W * H * 4) throw new Error(`guideLuma: expected a ${W}x${H} RGBA picture (${W * H * 4} bytes), got ${camera.length}`);
  // Written into `into` when it is large enough (a caller's buffer kept from frame to frame).
  const L = into && into.length >= W * H ? into.subarray(0, W * H) : new Float32Array(W * H);
  for (let i = 0, q = 0; i < L.length; i++, q += 4) L[i] = KR * camera[q]! + KG * camera[q + 1]! + KB * camera[q + 2]!;
  for (let pass = 0; pass < GUIDE_PASSES; pass++) box3InPlace(L, W, H);
  return L;
}

let box3Rows = new Float32Array(0);

/**
 * boxMeanInPlace(x, w, h, 1, 1) for one channel, the guide's case, done on every camera frame at
 * its full size: three-pixel sums along each row, then down each column keeping the two rows it
 * still needs (no per-call allocation once the rows fit; 4-5× faster at 1280×720).
 */
function box3InPlace(x: Float32Array, w: number, h: number): void {
  for (let base = 0; w > 1 && base < w * h; base += w) {
    let a = x[base]!;
    let b = x[base + 1]!;
    x[base] = (a + b) / 2;
    for (let i = base + 1; i < base + w - 1; i++) {
      const c = x[i + 1]!;
      x[i] = (a + b + c) / 3;
      a = b;
      b = c;
    }
    x[base + w - 1] = (a + b) / 2;
  }
  if (h === 1) return;
  if (box3Rows.length < 2 * w) box3Rows = new Float32Array(2 * w);
  let up = box3Rows.subarray(0, w); // row y-1 as it was before this pass
  let mid = box3Rows.subarray(w, 2 * w); // row y as it was
  mid.set(x.subarray(0, w));
  for (let y = 0; y < h; y++) {
    const row = y * w;
    const hasUp = y > 0;
    const hasDown = y < h - 1;
    const inv = 1 / (1 + (hasUp ? 1 : 0) + (hasDown ? 1 : 0));
    if (hasUp && hasDown) for (let i = 0; i < w; i++) x[row + i] = (up[i]! + mid[i]! + x[row + w + i]!) * inv;
    else if (hasDown) for (let i = 0; i < w; i++) x[row + i] = (mid[i]! + x[row + w + i]!) * inv;
    else for (let i = 0; i < w; i++) x[row + i] = (up[i]! + mid[i]!) * inv;
    if (hasDown) {
      const t = up;
      up = mid;
      mid = t;
      mid.set(x.subarray(row + w, row + 2 * w));
    }
  }
}

/** 3×3 box passes over the guide's luminance (see guideLuma). */
export const GUIDE_PASSES = 3;

/**
 * Writes the painting at the camera frame's full size into `out` (RGBA bytes, W×H, alpha 255):
 * a and b upsampled bilinearly, applied to `luma` (guideLuma of the frame). With `weight` < 1
 * the result is blended over what `out` already holds (a cross-fade between two sets of
 * coefficients).
 */
export function applyGuided(c: GuidedCoefficients, luma: Float32Array, W: number, H: number, out: Uint8ClampedArray, weight = 1): void {
  if (luma.length < W * H || out.length < W * H * 4) {
    throw new Error(`applyGuided: expected a ${W}x${H} luminance and RGBA output (${W * H} and ${W * H * 4} values), got ${luma.length} and ${out.length}`);
  }
  const { width: w, height: h, ab } = c;
  const k = 6;
  const cx = axisCached(W, w);
  const cy = axisCached(H, h);
  const line = new Float32Array(w * k);
  const keep = 1 - weight;
  for (let y = 0; y < H; y++) {
    // This row of a and b: the two source rows mixed once, then each pixel mixes two columns.
    const r0 = cy.i0[y]! * w * k;
    const r1 = cy.i1[y]! * w * k;
    const fy = cy.f[y]!;
    for (let i = 0; i < w * k; i++) {
      const v0 = ab[r0 + i]!;
      line[i] = v0 + (ab[r1 + i]! - v0) * fy;
    }
    let q = y * W * 4;
    let p = y * W;
    for (let x = 0; x < W; x++, q += 4, p++) {
      const j0 = cx.i0[x]! * k;
      const j1 = cx.i1[x]! * k;
      const fx = cx.f[x]!;
      const I = luma[p]!; // 0..255
      const ar = line[j0]! + (line[j1]! - line[j0]!) * fx;
      const ag = line[j0 + 1]! + (line[j1 + 1]! - line[j0 + 1]!) * fx;
      const abl = line[j0 + 2]! + (line[j1 + 2]! - line[j0 + 2]!) * fx;
      const br = line[j0 + 3]! + (line[j1 + 3]! - line[j0 + 3]!) * fx;
      const bg = line[j0 + 4]! + (line[j1 + 4]! - line[j0 + 4]!) * fx;
      const bb = line[j0 + 5]! + (line[j1 + 5]! - line[j0 + 5]!) * fx;
      const vr = ar * I + 255 * br;
      const vg = ag * I + 255 * bg;
      const vb = abl * I + 255 * bb;
      if (weight >= 1) {
        out[q] = vr;
        out[q + 1] = vg;
        out[q + 2] = vb;
      } else {
        out[q] = weight * vr + keep * out[q]!;
        out[q + 1] = weight * vg + keep * out[q + 1]!;
        out[q + 2] = weight * vb + keep * out[q + 2]!;
      }
      out[q + 3] = 255;
    }
  }
}
