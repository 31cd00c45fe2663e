import * as tf from '@tensorflow/tfjs-core';
import { Op, readTfliteGraph, TfliteFormatError, type TfliteGraph } from '../ml/tflite';
import type { FaceDetection } from './crop-tracker';

/**
 * BlazeFace short range run by tfjs (any backend; WASM where a browser offers no WebGL, which
 * MediaPipe's tasks-vision needs to read an image), from the same .tflite file tasks-vision
 * loads, with the same pre- and post-processing as its FaceDetector graph (face_detector_graph.cc):
 * the frame letterboxed into the 128×128 input at [-1, 1], SSD anchors, scores through a
 * clipped sigmoid, weighted non-maximum suppression, the letterbox taken off. Boxes and eyes
 * come back in the image's pixels.
 */

const INPUT = 128;
/** TensorsToDetections for face_detection_short_range: 896 anchors, box + 6 keypoints. */
const NUM_COORDS = 16;
const SCALE = 128;
const SCORE_CLIP = 100;
const MIN_SUPPRESSION = 0.3;

export interface Anchor {
  x: number;
  y: number;
}

/**
 * SsdAnchorsCalculator for face_detection_short_range (4 layers, strides 8, 16, 16, 16, aspect
 * ratio 1 plus the interpolated scale, fixed anchor size): layers of one stride share a grid, two
 * anchors per layer at each cell centre; row by row, in the order of the model's outputs.
 */
export function shortRangeAnchors(strides: readonly number[] = [8, 16, 16, 16]): Anchor[] {
  const out: Anchor[] = [];
  for (let l = 0; l < strides.length;) {
    const stride = strides[l]!;
    let perCell = 0;
    while (l < strides.length && strides[l] === stride) {
      perCell += 2;
      l++;
    }
    const n = Math.ceil(INPUT / stride);
    for (let y = 0; y < n; y++) {
      for (let x = 0; x < n; x++) {
        for (let a = 0; a < perCell; a++) out.push({ x: (x + 0.5) / n, y: (y + 0.5) / n });
      }
    }
  }
  return out;
}

/** A detection in the model's normalised input space. */
interface Raw {
  score: number;
  xmin: number;
  ymin: number;
  w: number;
  h: number;
  /** 6 keypoints, x then y. */
  kp: Float64Array;
}

const iou = (a: Raw, b: Raw): number => {
  const x0 = Math.max(a.xmin, b.xmin), y0 = Math.max(a.ymin, b.ymin);
  const x1 = Math.min(a.xmin + a.w, b.xmin + b.w), y1 = Math.min(a.ymin + a.h, b.ymin + b.h);
  const inter = Math.max(0, x1 - x0) * Math.max(0, y1 - y0);
  const union = a.w * a.h + b.w * b.h - inter;
  return union > 0 ? inter / union : 0;
};

/** Decodes the raw outputs (regressors [896×16], classificators [896]) above `minScore`. */
export function decode(regressors: Float32Array, scores: Float32Array, anchors: readonly Anchor[], minScore: number): Raw[] {
  const out: Raw[] = [];
  for (let i = 0; i < anchors.length; i++) {
    const s = 1 / (1 + Math.exp(-Math.min(SCORE_CLIP, Math.max(-SCORE_CLIP, scores[i]!))));
    if (s < minScore) continue;
    const r = i * NUM_COORDS;
    const a = anchors[i]!;
    const cx = regressors[r]! / SCALE + a.x;
    const cy = regressors[r + 1]! / SCALE + a.y;
    const w = regressors[r + 2]! / SCALE;
    const h = regressors[r + 3]! / SCALE;
    const kp = new Float64Array(12);
    for (let k = 0; k < 6; k++) {
      kp[2 * k] = regressors[r + 4 + 2 * k]! / SCALE + a.x;
      kp[2 * k + 1] = regressors[r + 5 + 2 * k]! / SCALE + a.y;
    }
    out.push({ score: s, xmin: cx - w / 2, ymin: cy - h / 2, w, h, kp });
  }
  return out;
}

/**
 * MediaPipe's weighted non-maximum suppression: from the best remaining detection, every one
 * overlapping it by more than `threshold` IoU (itself included) is merged into it, box and
 * keypoints averaged by score; the best score is kept.
 */
export function weightedNms(dets: Raw[], threshold = MIN_SUPPRESSION): Raw[] {
  let remaining = [...dets].sort((a, b) => b.score - a.score);
  const kept: Raw[] = [];
  while (remaining.length) {
    const top = remaining[0]!;
    const group: Raw[] = [];
    const rest: Raw[] = [];
    for (const d of remaining) (iou(d, top) > threshold ? group : rest).push(d);
    let total = 0, x0 = 0, y0 = 0, x1 = 0, y1 = 0;
    const kp = new Float64Array(12);
    for (const d of group) {
      total += d.score;
      x0 += d.xmin * d.score;
      y0 += d.ymin * d.score;
      x1 += (d.xmin + d.w) * d.score;
      y1 += (d.ymin + d.h) * d.score;
      for (let k = 0; k < 12; k++) kp[k]! += d.kp[k]! * d.score;
    }
    for (let k = 0; k < 12; k++) kp[k]! /= total;
    kept.push({ score: top.score, xmin: x0 / total, ymin: y0 / total, w: (x1 - x0) / total, h: (y1 - y0) / total, kp });
    remaining = rest;
  }
  return kept;
}

type Layer = (t: Map<number, tf.Tensor>) => void;

const ACTIVATIONS: Record<number, 'linear' | 'relu' | 'relu6'> = { 0: 'linear', 1: 'relu', 3: 'relu6' };
const OP_NAMES: Record<number, string> = Object.fromEntries(Object.entries(Op).map(([k, v]) => [v, k]));

/**
 * The graph as tfjs calls (NHWC), weights made on first use on the backend current then. Only
 * the operators BlazeFace uses; any other is a {@link TfliteFormatError} naming it.
 */
class TfGraph {
  private weights: Map<number, tf.Tensor> | null = null;
  private readonly layers: Layer[] = [];

  constructor(private readonly g: TfliteGraph) {
    const { tensors } = g;
    // DEQUANTIZE of a constant (the fp16 weights): the reader already decoded it; alias it.
    const constOf = new Map<number, number>();
    tensors.forEach((t, i) => t.data && constOf.set(i, i));
    const src = (i: number): number => constOf.get(i) ?? -1;
    const act = (code: number, a: number): 'linear' | 'relu' | 'relu6' => {
      const name = ACTIVATIONS[a];
      if (!name) throw new TfliteFormatError(`${OP_NAMES[code]}: fused activation ${a} (expected none, RELU or RELU6)`);
      return name;
    };
    const pad = (p: number): 'same' | 'valid' => (p === 1 ? 'valid' : 'same');
    for (const o of g.operators) {
      const [a, b, c] = o.inputs as [number, number, number];
      const out = o.outputs[0]!;
      const w = (i: number): tf.Tensor => this.weights!.get(src(i))!;
      switch (o.code) {
        case Op.DEQUANTIZE:
          if (src(a) < 0) throw new TfliteFormatError('DEQUANTIZE of an activation (expected constant weights only)');
          constOf.set(out, src(a));
          break;
        case Op.CONV_2D:
        case Op.DEPTHWISE_CONV_2D: {
          // both options tables: padding, stride w, stride h, then (depthwise: the multiplier) the activation
          const depthwise = o.code === Op.DEPTHWISE_CONV_2D;
          const args = {
            strides: [o.int(2, 1), o.int(1, 1)] as [number, number],
            pad: pad(o.byte(0, 0)),
            activation: act(o.code, o.byte(depthwise ? 4 : 3, 0)),
          };
          const conv = depthwise ? tf.fused.depthwiseConv2d : tf.fused.conv2d;
          this.layers.push((t) => t.set(out, conv({ x: t.get(a) as tf.Tensor4D, filter: w(b) as tf.Tensor4D, bias: c >= 0 ? w(c) : undefined, ...args })));
          break;
        }
        case Op.MAX_POOL_2D: {
          const strides: [number, number] = [o.int(2, 1), o.int(1, 1)];
          const size: [number, number] = [o.int(4, 1), o.int(3, 1)];
          const padding = pad(o.byte(0, 0));
          if (o.byte(5, 0) !== 0) throw new TfliteFormatError('MAX_POOL_2D with a fused activation (expected none)');
          this.layers.push((t) => t.set(out, tf.maxPool(t.get(a) as tf.Tensor4D, size, strides, padding)));
          break;
        }
        case Op.ADD: {
          const activation = act(o.code, o.byte(0, 0));
          this.layers.push((t) => {
            const s = tf.add(t.get(a)!, t.get(b)!);
            t.set(out, activation === 'relu' ? tf.relu(s) : activation === 'relu6' ? tf.relu6(s) : s);
          });
          break;
        }
        case Op.RELU:
          this.layers.push((t) => t.set(out, tf.relu(t.get(a)!)));
          break;
        case Op.PAD: {
          const p = tensors[b]?.data;
          if (!p) throw new TfliteFormatError('PAD with computed paddings (expected a constant)');
          const pairs = Array.from({ length: p.length / 2 }, (_, k): [number, number] => [p[2 * k]!, p[2 * k + 1]!]);
          this.layers.push((t) => t.set(out, tf.pad(t.get(a)!, pairs)));
          break;
        }
        case Op.RESHAPE: {
          const shape = tensors[out]!.shape;
          this.layers.push((t) => t.set(out, tf.reshape(t.get(a)!, shape)));
          break;
        }
        case Op.CONCATENATION: {
          const axis = o.int(0, 0);
          const ins = [...o.inputs];
          this.layers.push((t) => t.set(out, tf.concat(ins.map((i) => t.get(i)!), axis)));
          break;
        }
        default:
          throw new TfliteFormatError(`operator ${OP_NAMES[o.code] ?? `#${o.code}`} is not supported (expected only the operators of BlazeFace)`);
      }
    }
  }

  private makeWeights(): Map<number, tf.Tensor> {
    const m = new Map<number, tf.Tensor>();
    for (const [i, t] of this.g.tensors.entries()) {
      if (!t.data || t.data instanceof Int32Array) continue;
      const s = t.shape;
      let x: tf.Tensor;
      if (s.length === 4 && s[0] === 1 && this.isDepthwiseFilter(i)) {
        // [1, kh, kw, C·M] → [kh, kw, C, M] (M = 1 here)
        x = tf.tensor4d(t.data, [s[1]!, s[2]!, s[3]!, 1]);
      } else if (s.length === 4) {
        // [O, kh, kw, I] → [kh, kw, I, O]
        x = tf.tidy(() => tf.transpose(tf.tensor4d(t.data as Float32Array, s as [number, number, number, number]), [1, 2, 3, 0]));
      } else {
        x = tf.tensor(t.data, s);
      }
      m.set(i, x);
    }
    return m;
  }

  private depthwise: Set<number> | null = null;
  private isDepthwiseFilter(i: number): boolean {
    if (!this.depthwise) {
      this.depthwise = new Set();
      // the filter reaches a depthwise conv through a DEQUANTIZE, or directly
      const deq = new Map<number, number>();
      for (const o of this.g.operators) if (o.code === Op.DEQUANTIZE) deq.set(o.outputs[0]!, o.inputs[0]!);
      for (const o of this.g.operators) {
        if (o.code === Op.DEPTHWISE_CONV_2D) this.depthwise.add(deq.get(o.inputs[1]!) ?? o.inputs[1]!);
      }
    }
    return this.depthwise.has(i);
  }

  /** Runs the graph on `input` ([1, 128, 128, 3]); the outputs in the model's order, as data. */
  run(input: tf.Tensor4D): Float32Array[] {
    this.weights ??= this.makeWeights();
    const outs = tf.tidy(() => {
      const t = new Map<number, tf.Tensor>([[this.g.inputs[0]!, input]]);
      for (const layer of this.layers) layer(t);
      return this.g.outputs.map((i) => t.get(i)!);
    });
    try {
      return outs.map((o) => o.dataSync() as Float32Array);
    } finally {
      outs.forEach((o) => o.dispose());
    }
  }

  dispose(): void {
    this.weights?.forEach((w) => w.dispose());
    this.weights = null;
  }
}

/** BlazeFace short range on tfjs: see the top of this file. */
export class TfBlazeFace {
  private readonly anchors = shortRangeAnchors();
  private readonly canvas = new OffscreenCanvas(INPUT, INPUT);
  private readonly ctx: OffscreenCanvasRenderingContext2D;
  private readonly regressors: number;
  private readonly classificators: number;

  private constructor(private readonly graph: TfGraph, g: TfliteGraph, private readonly minScore: number) {
    const ctx = this.canvas.getContext('2d', { willReadFrequently: true });
    if (!ctx) throw new Error('BlazeFace: no 2D canvas in this context');
    this.ctx = ctx;
    const inShape = g.tensors[g.inputs[0]!]?.shape.join('x');
    if (inShape !== `1x${INPUT}x${INPUT}x3`) throw new TfliteFormatError(`BlazeFace input ${inShape} (expected 1x128x128x3: the short-range model)`);
    const shapes = g.outputs.map((i) => g.tensors[i]!.shape.join('x'));
    this.regressors = shapes.indexOf(`1x${this.anchors.length}x${NUM_COORDS}`);
    this.classificators = shapes.indexOf(`1x${this.anchors.length}x1`);
    if (this.regressors < 0 || this.classificators < 0) {
      throw new TfliteFormatError(`BlazeFace outputs ${shapes.join(', ')} (expected 1x896x16 and 1x896x1: the short-range model)`);
    }
  }

  /** `model`: the .tflite bytes (the file tasks-vision loads). */
  static fromBytes(model: Uint8Array, minScore = 0.5): TfBlazeFace {
    const g = readTfliteGraph(model);
    return new TfBlazeFace(new TfGraph(g), g, minScore);
  }

  static async load(url: string, minScore = 0.5): Promise<TfBlazeFace> {
    const r = await fetch(url);
    if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
    return TfBlazeFace.fromBytes(new Uint8Array(await r.arrayBuffer()), minScore);
  }

  detect(image: ImageBitmap): FaceDetection[] {
    const W = image.width, H = image.height;
    // letterbox: the whole frame, aspect kept, centred on black (-1 at the model's input)
    const s = Math.min(INPUT / W, INPUT / H);
    const dw = W * s, dh = H * s;
    const ox = (INPUT - dw) / 2, oy = (INPUT - dh) / 2;
    const x = this.ctx;
    x.fillStyle = '#000';
    x.fillRect(0, 0, INPUT, INPUT);
    x.imageSmoothingEnabled = true;
    x.imageSmoothingQuality = 'low';
    x.drawImage(image, ox, oy, dw, dh);
    const px = x.getImageData(0, 0, INPUT, INPUT).data;
    const rgb = new Float32Array(INPUT * INPUT * 3);
    for (let p = 0, q = 0; p < px.length; p += 4, q += 3) {
      rgb[q] = px[p]! / 127.5 - 1;
      rgb[q + 1] = px[p + 1]! / 127.5 - 1;
      rgb[q + 2] = px[p + 2]! / 127.5 - 1;
    }
    const input = tf.tensor4d(rgb, [1, INPUT, INPUT, 3]);
    let outs: Float32Array[];
    try {
      outs = this.graph.run(input);
    } finally {
      input.dispose();
    }
    const found = weightedNms(decode(outs[this.regressors]!, outs[this.classificators]!, this.anchors, this.minScore));
    // letterbox off: model-input fractions → image pixels
    const px2x = (u: number): number => (u * INPUT - ox) / s;
    const px2y = (v: number): number => (v * INPUT - oy) / s;
    return found.map((d) => ({
      x: px2x(d.xmin), y: px2y(d.ymin), width: (d.w * INPUT) / s, height: (d.h * INPUT) / s, score: d.score,
      eyes: [{ x: px2x(d.kp[0]!), y: px2y(d.kp[1]!) }, { x: px2x(d.kp[2]!), y: px2y(d.kp[3]!) }],
    }));
  }

  close(): void {
    this.graph.dispose();
  }
}
