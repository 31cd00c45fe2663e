import * as tf from '@tensorflow/tfjs-core';
import { instanceNorm } from './instance-norm';

/**
 * PaintNet: the one network format of every image-to-image network Brushcam runs, the painting
 * styles and the anime avatars alike ("brushcam-paintnet"; docs/paintnet-format.md describes
 * the op list, the weight layout and the parity rule). model.json lists the weights (PyTorch
 * state_dict names, OIHW layout, float32 shards) and the complete forward pass as a flat op
 * list. This file loads it, checks everything it relies on, and runs the ops in tfjs. Input and
 * output are NHWC RGB in [0, 1]; H and W multiples of `inputMultiple`.
 */

export type PaintNetOp =
  | { op: 'conv2d' | 'depthwise_conv2d'; weight: string; bias: string | null; kernel: number; stride: number; pad: number; in?: number; out?: number }
  | { op: 'instance_norm'; weight: string; bias: string; eps: number }
  | { op: 'relu' | 'sigmoid' | 'upsample_nearest' }
  /** Marks the encoder output for the training losses; the runtime skips it. */
  | { op: 'features'; note?: string }
  | { op: 'save' | 'add'; name: string };

export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: 'float32';
}

/** The format name exporters write. */
export const PAINTNET_FORMAT = 'brushcam-paintnet';
/** The name of the same format before it was called PaintNet; shipped model.json files may still carry it. */
export const LEGACY_FORMAT = 'brushcam-style';

export interface PaintNetJson {
  format: typeof PAINTNET_FORMAT | typeof LEGACY_FORMAT;
  version: 1;
  id: string;
  arch: { name: string; gflop_640x360?: number; gflop_1280x720?: number; [k: string]: unknown };
  layout: 'OIHW';
  ops: PaintNetOp[];
  weightsManifest: { paths: string[]; weights: WeightSpec[] }[];
  title?: string;
  artist?: string;
  /**
   * A tier taught at the output's scale (training/brushcam_train/distill.py): given a frame
   * shrunk k times it draws the full network's painting of the full frame shrunk k times, so its
   * strokes are the size a caller sees once the page upsamples it.
   */
  taught_scale?: number;
}

export class ModelFormatError extends Error {
  override name = 'ModelFormatError';
}

const OPS = new Set(['conv2d', 'depthwise_conv2d', 'instance_norm', 'relu', 'sigmoid', 'upsample_nearest', 'features', 'save', 'add']);

/** Validates model.json; every error names the file and what was expected. */
export function parsePaintNetJson(raw: unknown, file: string): PaintNetJson {
  const fail = (why: string): never => {
    throw new ModelFormatError(`${file}: ${why}`);
  };
  if (typeof raw !== 'object' || raw === null) fail('expected a JSON object');
  const m = raw as Record<string, unknown>;
  if (m.format !== PAINTNET_FORMAT && m.format !== LEGACY_FORMAT) fail(`expected "format": "${PAINTNET_FORMAT}", got ${JSON.stringify(m.format)}`);
  if (m.version !== 1) fail(`expected "version": 1, got ${JSON.stringify(m.version)}`);
  if (m.layout !== 'OIHW') fail(`expected "layout": "OIHW", got ${JSON.stringify(m.layout)}`);
  if (!Array.isArray(m.ops) || m.ops.length === 0) fail('expected a non-empty "ops" array');
  if (!Array.isArray(m.weightsManifest) || m.weightsManifest.length === 0) fail('expected a non-empty "weightsManifest" array');
  const names = new Set<string>();
  for (const [g, group] of (m.weightsManifest as unknown[]).entries()) {
    const gr = group as Record<string, unknown>;
    if (!Array.isArray(gr?.paths) || gr.paths.length !== 1 || typeof gr.paths[0] !== 'string' || !/^[\w.-]+$/.test(gr.paths[0])) {
      fail(`weightsManifest[${g}].paths must be one file name in the model folder`);
    }
    if (!Array.isArray(gr.weights)) fail(`weightsManifest[${g}].weights must be an array`);
    for (const w of gr.weights as unknown[]) {
      const ws = w as Record<string, unknown>;
      if (typeof ws?.name !== 'string') fail(`weightsManifest[${g}]: a weight without a name`);
      const wn = ws.name as string;
      if (!Array.isArray(ws.shape) || !ws.shape.every((d) => Number.isInteger(d) && (d as number) > 0)) fail(`weight '${wn}': shape must be positive integers`);
      if (ws.dtype !== 'float32') fail(`weight '${wn}': dtype must be float32, got ${JSON.stringify(ws.dtype)}`);
      names.add(wn);
    }
  }
  for (const [i, o] of (m.ops as unknown[]).entries()) {
    const op = o as Record<string, unknown>;
    if (!OPS.has(op?.op as string)) fail(`ops[${i}]: unknown op ${JSON.stringify(op?.op)}; known: ${[...OPS].join(', ')}`);
    for (const k of ['weight', 'bias'] as const) {
      const ref = op[k];
      if (typeof ref === 'string' && !names.has(ref)) fail(`ops[${i}] (${String(op.op)}) uses weight '${ref}', which the weights manifest does not list`);
    }
    if ((op.op === 'conv2d' || op.op === 'depthwise_conv2d') && !(Number.isInteger(op.stride) && Number.isInteger(op.pad))) {
      fail(`ops[${i}]: ${String(op.op)} needs integer "stride" and "pad"`);
    }
  }
  return m as unknown as PaintNetJson;
}

/** Decodes the weight shards into named Float32Arrays, checking every byte is accounted for. */
export function decodeWeights(json: PaintNetJson, shards: ArrayBuffer[], file: string): Map<string, { shape: number[]; data: Float32Array }> {
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  json.weightsManifest.forEach((group, g) => {
    const buf = shards[g];
    const path = group.paths[0];
    if (!buf) throw new ModelFormatError(`${file}: weight file '${path}' is missing`);
    let offset = 0;
    for (const w of group.weights) {
      const count = w.shape.reduce((a, b) => a * b, 1);
      const bytes = count * 4;
      if (offset + bytes > buf.byteLength) {
        throw new ModelFormatError(`${path}: too short: weight '${w.name}' ${JSON.stringify(w.shape)} needs bytes ${offset}..${offset + bytes}, the file has ${buf.byteLength}`);
      }
      const data = new Float32Array(buf.slice(offset, offset + bytes));
      out.set(w.name, { shape: w.shape, data });
      offset += bytes;
    }
    if (offset !== buf.byteLength) {
      throw new ModelFormatError(`${path}: ${buf.byteLength} bytes, but the manifest describes ${offset}: wrong weights manifest for this file`);
    }
  });
  return out;
}

type Fetcher = (url: string) => Promise<Response>;

/**
 * One step of the compiled forward pass (see {@link compilePlan}): a convolution carries its
 * bias and the activation after it, so it runs as one fused kernel.
 */
type Step =
  | { k: 'conv'; depthwise: boolean; weight: string; bias: string | null; stride: number; pad: number; act: 'linear' | 'relu' | 'sigmoid'; unfused?: true }
  | { k: 'norm'; weight: string; bias: string; eps: number; relu: boolean }
  | { k: 'upconv'; weight: string; bias: string | null; act: 'linear' | 'relu' | 'sigmoid' }
  | { k: 'relu' | 'sigmoid' | 'up' }
  | { k: 'save' | 'add'; name: string };

/** Largest output width of a pointwise conv that a large depthwise kernel is folded into. */
const FOLD_MAX_OUT = 8;
/** Depthwise kernels from this size up are folded into the pointwise conv after them. */
const FOLD_MIN_KERNEL = 5;

type ConvOp = Extract<PaintNetOp, { op: 'conv2d' | 'depthwise_conv2d' }>;

/**
 * A 2× nearest upsampling followed by a 3×3 convolution (stride 1, padding 1), as one 2×2
 * convolution on the small picture. Output pixel (2i+a, 2j+b) sees only a 2×2 window of the small
 * picture: rows i-1, i for a = 0 (the 3×3 kernel's rows 0 | 1+2), rows i, i+1 for a = 1 (rows
 * 0+1 | 2), the same for columns. A 2×2 convolution with padding 1 gives, at (p, q), the window of
 * rows p-1, p and columns q-1, q: the window of phase (a, b) at (p - a, q - b). It computes all
 * four phases at once (4×O output channels, one kernel each) on the (H+1)×(W+1) grid; laying the
 * four phases out as 2×2 blocks puts phase (a, b) of (i, j) at (2i + a + 1, 2j + b + 1) when the
 * block slot (a', b') holds phase (1-a', 1-b'), so the result is that picture less its first and
 * last rows and columns. 4/9 of the arithmetic of the convolution on the upsampled picture, the
 * same numbers, the zero border included.
 */
export function subpixelKernel(k: Float32Array, O: number, I: number): Float32Array {
  // HWIO [2, 2, I, 4·O]; output channel slot·O + o, slot 2a'+b' = phase (1-a', 1-b').
  const out = new Float32Array(4 * I * 4 * O);
  for (let slot = 0; slot < 4; slot++) {
    const a = 1 - (slot >> 1);
    const b = 1 - (slot & 1);
    // Which row (column) of the 2×2 window each of the 3×3 kernel's rows (columns) reads.
    const rows = a === 0 ? [0, 1, 1] : [0, 0, 1];
    const cols = b === 0 ? [0, 1, 1] : [0, 0, 1];
    for (let o = 0; o < O; o++) for (let i = 0; i < I; i++) for (let y = 0; y < 3; y++) for (let x = 0; x < 3; x++) {
      out[((rows[y]! * 2 + cols[x]!) * I + i) * 4 * O + slot * O + o]! += k[((o * I + i) * 3 + y) * 3 + x]!;
    }
  }
  return out;
}

/** The 2×2 blocks of a [1, H+1, W+1, 4·C] phase picture, less the outer rows and columns: [1, 2H, 2W, C]. */
export function interleavePhases(y: tf.Tensor4D): tf.Tensor4D {
  const [, h1, w1, c4] = y.shape;
  const c = c4 / 4;
  // [p, q, a', (b', c)] → [p, a', q, (b', c)] → rows 2p + a', columns 2q + b'.
  const blocks = tf.reshape(tf.transpose(tf.reshape(y, [h1, w1, 2, 2 * c]), [0, 2, 1, 3]), [1, 2 * h1, 2 * w1, c]);
  return tf.slice(blocks, [0, 1, 1, 0], [1, 2 * h1 - 2, 2 * w1 - 2, c]) as tf.Tensor4D;
}

/**
 * The op list as the runtime executes it, equal in maths:
 * - conv (+ its bias) followed by a ReLU or sigmoid is one fused conv kernel;
 * - instance norm followed by a ReLU is one fused kernel (src/engine/ml/instance-norm.ts);
 * - a 2× nearest upsampling followed by a 3×3 convolution is one 2×2 convolution on the small
 *   picture giving the four output phases, then laid out in 2×2 blocks: 4/9 of the arithmetic
 *   ({@link subpixelKernel});
 * - a large depthwise conv (k ≥ 5) straight into a narrow 1×1 conv (the output heads: 9×9 or
 *   7×7 depthwise, then 1×1 to RGB) is folded into one full k×k conv, W[kh,kw,i,o] =
 *   dw[i,kh,kw]·pw[o,i], bias pw·b_dw + b_pw. That is k²·C·O multiply-adds instead of k²·C + C·O,
 *   but a full convolution runs on the backends' matrix paths, while the WASM backend's large
 *   depthwise kernel is a slow generic loop (measured: 78 ms of an 87-ms frame at 320×180).
 * `fold(dw, pw)` makes the folded weight and names it (null: fold nothing); `subpixel(conv)` makes
 * the phase kernel of a 3×3 convolution after a 2× nearest upsampling and names it (null: run the
 * pair as written); returns the steps.
 */
export function compilePlan(ops: readonly PaintNetOp[], fold: ((dw: ConvOp, pw: ConvOp) => { weight: string; bias: string | null }) | null, fuse = true,
  subpixel: ((conv: ConvOp) => { weight: string; bias: string | null }) | null = null): Step[] {
  const steps: Step[] = [];
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    const next = ops[i + 1];
    switch (op.op) {
      case 'conv2d':
      case 'depthwise_conv2d': {
        let conv: Extract<Step, { k: 'conv' }> = { k: 'conv', depthwise: op.op === 'depthwise_conv2d', weight: op.weight, bias: op.bias, stride: op.stride, pad: op.pad, act: 'linear' };
        if (!fuse) {
          // Conv, bias and activation as separate kernels (the bench's baseline).
          steps.push({ ...conv, unfused: true });
          break;
        }
        if (fold && op.op === 'depthwise_conv2d' && op.kernel >= FOLD_MIN_KERNEL && next?.op === 'conv2d' && next.kernel === 1 && next.stride === 1 && next.pad === 0 && (next.out ?? Infinity) <= FOLD_MAX_OUT) {
          conv = { ...conv, depthwise: false, ...fold(op, next) };
          i++;
        }
        const act = ops[i + 1]?.op;
        if (act === 'relu' || act === 'sigmoid') {
          conv.act = act;
          i++;
        }
        steps.push(conv);
        break;
      }
      case 'instance_norm': {
        const relu = next?.op === 'relu';
        if (relu) i++;
        steps.push({ k: 'norm', weight: op.weight, bias: op.bias, eps: op.eps, relu });
        break;
      }
      case 'relu':
      case 'sigmoid':
        steps.push({ k: op.op });
        break;
      case 'upsample_nearest': {
        if (fuse && subpixel && next?.op === 'conv2d' && next.kernel === 3 && next.stride === 1 && next.pad === 1) {
          const after = ops[i + 2]?.op;
          const act = after === 'relu' || after === 'sigmoid' ? after : 'linear';
          steps.push({ k: 'upconv', ...subpixel(next), act });
          i += act === 'linear' ? 1 : 2;
          break;
        }
        steps.push({ k: 'up' });
        break;
      }
      case 'save':
      case 'add':
        steps.push({ k: op.op, name: op.name });
        break;
      case 'features':
        // A marker for the training losses (the encoder output); nothing to run.
        break;
      default:
        throw new ModelFormatError(`op '${(op as { op: string }).op}' cannot run here`);
    }
  }
  return steps;
}

export class PaintNet {
  private readonly weights = new Map<string, tf.Tensor>();
  private disposed = false;
  private plan: Step[] = [];

  private constructor(readonly json: PaintNetJson) {}

  /** Loads `<folderUrl>/model.json` and its shards. Throws a ModelFormatError naming the file. */
  static async load(folderUrl: string, fetcher: Fetcher = (u) => fetch(u), o: { fuse?: boolean } = {}): Promise<PaintNet> {
    const base = folderUrl.endsWith('/') ? folderUrl : `${folderUrl}/`;
    const file = `${base}model.json`;
    let res: Response;
    try {
      res = await fetcher(file);
    } catch (e) {
      throw new ModelFormatError(`${file}: could not be read (${e instanceof Error ? e.message : String(e)})`);
    }
    if (!res.ok) throw new ModelFormatError(`${file}: not found (HTTP ${res.status})`);
    let raw: unknown;
    try {
      raw = await res.json();
    } catch {
      throw new ModelFormatError(`${file}: not valid JSON (truncated or corrupt?)`);
    }
    const json = parsePaintNetJson(raw, file);
    const shards = await Promise.all(
      json.weightsManifest.map(async (g) => {
        const url = `${base}${g.paths[0]}`;
        const r = await fetcher(url).catch(() => null);
        if (!r?.ok) throw new ModelFormatError(`${url}: weight file not found`);
        return r.arrayBuffer();
      }),
    );
    return PaintNet.fromParts(json, shards, file, o);
  }

  /**
   * `fuse: false` runs convolutions, their biases and activations as separate kernels and
   * folds nothing (the runtime before the compiled plan; instance norm + ReLU stay fused): the
   * baseline bench/kernels.mjs compares against in the same run.
   */
  static fromParts(json: PaintNetJson, shards: ArrayBuffer[], file = 'model.json', o: { fuse?: boolean } = {}): PaintNet {
    const decoded = decodeWeights(json, shards, file);
    const m = new PaintNet(json);
    try {
      // Convert each weight to the layout tfjs wants, once.
      const kinds = new Map<string, 'conv' | 'dw' | 'vec'>();
      for (const op of json.ops) {
        if (op.op === 'conv2d') kinds.set(op.weight, 'conv');
        if (op.op === 'depthwise_conv2d') kinds.set(op.weight, 'dw');
      }
      for (const [name, w] of decoded) {
        const kind = kinds.get(name) ?? 'vec';
        if (kind === 'vec') {
          m.weights.set(name, tf.tensor1d(w.data));
          continue;
        }
        if (w.shape.length !== 4) throw new ModelFormatError(`${file}: weight '${name}' must be 4-D OIHW, got ${JSON.stringify(w.shape)}`);
        const oihw = tf.tensor4d(w.data, w.shape as [number, number, number, number]);
        // conv2d: OIHW → HWIO; depthwise: [C,1,kh,kw] → [kh,kw,C,1].
        m.weights.set(name, tf.transpose(oihw, kind === 'conv' ? [2, 3, 1, 0] : [2, 3, 0, 1]));
        oihw.dispose();
      }
      // Folding pays on WASM, whose large depthwise kernel is a slow generic loop; GPU backends
      // run depthwise kernels as well as any, and would do 3x the arithmetic folded.
      m.plan = compilePlan(json.ops, tf.getBackend() !== 'wasm' ? null : (dw, pw) => {
        const name = `${dw.weight}*${pw.weight}`;
        const d = decoded.get(dw.weight)!; // [C, 1, k, k]
        const p = decoded.get(pw.weight)!; // [O, C, 1, 1]
        const [C, , kh, kw] = d.shape as [number, number, number, number];
        const O = p.shape[0]!;
        if (p.shape[1] !== C) throw new ModelFormatError(`${file}: '${pw.weight}' takes ${p.shape[1]} channels, '${dw.weight}' gives ${C}`);
        const hwio = new Float32Array(kh * kw * C * O);
        for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) for (let c = 0; c < C; c++) {
          const dv = d.data[(c * kh + y) * kw + x]!;
          for (let o = 0; o < O; o++) hwio[((y * kw + x) * C + c) * O + o] = dv * p.data[o * C + c]!;
        }
        m.weights.set(name, tf.tensor4d(hwio, [kh, kw, C, O]));
        let bias: string | null = pw.bias;
        if (dw.bias) {
          // The depthwise bias goes through the pointwise weights into the output bias.
          const bd = decoded.get(dw.bias)!.data;
          const b = new Float32Array(O);
          for (let o = 0; o < O; o++) {
            let v = pw.bias ? decoded.get(pw.bias)!.data[o]! : 0;
            for (let c = 0; c < C; c++) v += p.data[o * C + c]! * bd[c]!;
            b[o] = v;
          }
          bias = `${name}.bias`;
          m.weights.set(bias, tf.tensor1d(b));
        }
        return { weight: name, bias };
      }, o.fuse ?? true, (conv) => {
        const k = decoded.get(conv.weight)!; // [O, I, 3, 3]
        const [O, I] = k.shape as [number, number];
        const weight = `${conv.weight}@up2`;
        m.weights.set(weight, tf.tensor4d(subpixelKernel(k.data, O, I), [2, 2, I, 4 * O]));
        if (!conv.bias) return { weight, bias: null };
        const b = decoded.get(conv.bias)!.data;
        const bias = `${conv.bias}@up2`;
        m.weights.set(bias, tf.tensor1d(Float32Array.from({ length: 4 * O }, (_, i) => b[i % O]!)));
        return { weight, bias };
      });
      // The weights a folded or upsampled convolution replaced are never read: let them go.
      const used = new Set(m.plan.flatMap((st) => ('weight' in st ? [st.weight, st.k === 'norm' ? st.bias : st.bias ?? ''] : [])));
      for (const [name, w] of m.weights) {
        if (used.has(name)) continue;
        w.dispose();
        m.weights.delete(name);
      }
    } catch (e) {
      m.dispose();
      throw e;
    }
    return m;
  }

  /**
   * What H and W of the input must be multiples of: 4 for the ReCoNet-shaped networks (two
   * stride-2 convolutions), 16 for the artist networks (four); `arch.input_multiple` says.
   */
  get inputMultiple(): number {
    const m = this.json.arch.input_multiple;
    return typeof m === 'number' && Number.isInteger(m) && m >= 1 && m <= 64 ? m : 4;
  }

  /**
   * Whether its paintings carry strokes at the size the caller sees (a tier taught at the
   * output's scale): the page then upsamples them keeping the painting's own detail
   * (`strokes` in src/page/filters/guided.ts) instead of refitting it on the camera.
   */
  get drawsOutputScale(): boolean {
    const k = this.json.taught_scale;
    return typeof k === 'number' && k > 1;
  }

  /** Runs the forward pass. `x`: [1, H, W, 3] float32 in [0, 1], H and W multiples of inputMultiple. */
  run(x: tf.Tensor4D): tf.Tensor4D {
    if (this.disposed) throw new Error(`network '${this.json.id}' used after dispose()`);
    const [, h, w] = x.shape;
    const m = this.inputMultiple;
    if (h % m !== 0 || w % m !== 0) throw new RangeError(`network input must be a multiple of ${m} in height and width, got ${h}×${w}`);
    // Each op runs in its own tidy and the previous activation is freed as soon as the next
    // exists, so peak memory is a few activations, not the whole network's.
    const saved = new Map<string, tf.Tensor4D>();
    let t: tf.Tensor4D = x;
    const keep = (v: tf.Tensor4D): boolean => v === x || [...saved.values()].includes(v);
    try {
      for (const step of this.plan) {
        if (step.k === 'save') {
          saved.set(step.name, t);
          continue;
        }
        const prev = t;
        t = tf.tidy(() => this.apply(step, prev, saved));
        if (step.k === 'add') {
          const s = saved.get(step.name)!;
          saved.delete(step.name);
          if (!keep(s) && s !== prev) s.dispose();
        }
        if (!keep(prev)) prev.dispose();
      }
      return t;
    } catch (e) {
      if (!keep(t)) t.dispose();
      throw e;
    } finally {
      for (const s of saved.values()) if (s !== x && s !== t) s.dispose();
    }
  }

  /** How many kernels a frame takes (the compiled plan's steps, less the bookkeeping). */
  get kernelCount(): number {
    // An upsampled convolution is a convolution, a transpose and a slice.
    return this.plan.reduce((n, s) => n + (s.k === 'save' ? 0 : s.k === 'upconv' ? 3 : 1), 0);
  }

  private apply(step: Step, t: tf.Tensor4D, saved: Map<string, tf.Tensor4D>): tf.Tensor4D {
    switch (step.k) {
      case 'conv': {
        const filter = this.weights.get(step.weight) as tf.Tensor4D;
        const bias = step.bias ? this.weights.get(step.bias) : undefined;
        // A number is symmetric explicit padding in tfjs (unlike 'same', which pads
        // bottom/right only for stride 2): exactly PyTorch's padding=k//2. Bias and activation
        // run in the conv's own kernel.
        if (step.unfused) {
          const y = step.depthwise ? tf.depthwiseConv2d(t, filter, step.stride, step.pad) : tf.conv2d(t, filter, step.stride, step.pad);
          return bias ? tf.add(y, bias) : y;
        }
        const o = { x: t, filter, strides: step.stride, pad: step.pad, bias, activation: step.act };
        return (step.depthwise ? tf.fused.depthwiseConv2d(o as Parameters<typeof tf.fused.depthwiseConv2d>[0]) : tf.fused.conv2d(o as Parameters<typeof tf.fused.conv2d>[0])) as tf.Tensor4D;
      }
      case 'upconv': {
        const bias = step.bias ? this.weights.get(step.bias) : undefined;
        const y = tf.fused.conv2d({ x: t, filter: this.weights.get(step.weight) as tf.Tensor4D, strides: 1, pad: 1, bias, activation: step.act });
        return interleavePhases(y);
      }
      case 'norm':
        // One fused kernel on WASM, WebGL and WebGPU (src/engine/ml/instance-norm.ts).
        return instanceNorm(t, this.weights.get(step.weight)!, this.weights.get(step.bias)!, step.eps, step.relu);
      case 'relu':
        return tf.relu(t);
      case 'sigmoid':
        return tf.sigmoid(t);
      case 'up':
        return tf.image.resizeNearestNeighbor(t, [t.shape[1] * 2, t.shape[2] * 2], false, false);
      case 'add': {
        const s = saved.get(step.name);
        if (!s) throw new ModelFormatError(`op 'add ${step.name}' comes before 'save ${step.name}'`);
        return tf.add(t, s);
      }
      default:
        throw new ModelFormatError(`step '${step.k}' cannot run here`);
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    // One at a time: on a backend whose GPU is gone a release may throw, and the rest must
    // still be let go (tfjs counts them until each dispose() returns).
    let first: Error | null = null;
    for (const w of this.weights.values()) {
      try {
        w.dispose();
      } catch (e) {
        first ??= e instanceof Error ? e : new Error(`releasing a weight: ${String(e)}`);
      }
    }
    this.weights.clear();
    if (first) throw first;
  }
}

/**
 * Runs an image-to-image network on a picture: RGB bytes → [1,h,w,3] in [0,1] (resized
 * bilinearly when the source is not h×w) → network → RGBA bytes of the h×w output. The pixels
 * are read back; no tensor outlives the call. `post` (e.g. a {@link Stabilizer}) may replace the
 * network's output before it is read back; it keeps what it needs itself.
 */
export async function runOnPixels(
  model: PaintNet,
  source: ImageBitmap | ImageData | OffscreenCanvas,
  w: number,
  h: number,
  post?: (x: tf.Tensor4D, y: tf.Tensor4D) => tf.Tensor4D,
): Promise<Uint8ClampedArray<ArrayBuffer>> {
  const y = tf.tidy(() => {
    const px = tf.browser.fromPixels(source as ImageBitmap);
    const small = px.shape[0] === h && px.shape[1] === w;
    const sized = small ? px : tf.image.resizeBilinear(px, [h, w], false, true);
    const x = tf.expandDims(tf.div(sized, 255), 0) as tf.Tensor4D;
    const out = model.run(x);
    const painted = tf.squeeze(post ? post(x, out) : out, [0]) as tf.Tensor3D;
    return tf.clipByValue(painted, 0, 1) as tf.Tensor3D;
  });
  try {
    return (await tf.browser.toPixels(y)) as Uint8ClampedArray<ArrayBuffer>;
  } finally {
    y.dispose();
  }
}
