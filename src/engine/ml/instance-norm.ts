/**
 * Instance normalisation (+ an optional ReLU) as one kernel per backend.
 *
 * Composed from tfjs ops, an instance norm is about fourteen kernels (two pools, squares,
 * subtractions, rsqrt, products, sums); the style networks have thirteen of them, so most of
 * a small frame's time went to dispatching those kernels rather than to arithmetic. Here:
 * - WASM: one pass for the per-channel sums and one for the output, in JS over the backend's
 *   own heap (no copies);
 * - WebGL and WebGPU: three shader passes (sums along each row, then down the rows, then
 *   normalise-scale-shift-ReLU), with no readback.
 * Same maths as the composite and PyTorch: biased variance, eps inside the square root.
 * Other backends, or a batch of more than one, use the composite.
 */
import * as tf from '@tensorflow/tfjs-core';

export const INSTANCE_NORM_KERNEL = 'BrushcamInstanceNorm';

interface Attrs {
  eps: number;
  relu: boolean;
}

// ---- WASM ------------------------------------------------------------------------------------

interface WasmLikeBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
}

function wasmInstanceNorm(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const { x, gamma, beta } = args.inputs as Record<string, tf.TensorInfo>;
  const { eps, relu } = args.attrs as unknown as Attrs;
  const backend = args.backend as WasmLikeBackend;
  const [n, h, w, c] = x!.shape as [number, number, number, number];
  const out = backend.makeOutput(x!.shape, 'float32');
  // Views after makeOutput: allocating may grow (and so move) the heap.
  const xs = backend.typedArrayFromHeap(x!);
  const ys = backend.typedArrayFromHeap(out);
  const g = backend.typedArrayFromHeap(gamma!);
  const b = backend.typedArrayFromHeap(beta!);
  const plane = h * w * c;
  const count = h * w;
  // Channel by channel with the sums in locals (strided reads; a frame's activation fits in
  // cache): several times faster in V8 than accumulating into arrays pixel by pixel.
  for (let s = 0; s < n; s++) {
    const start = s * plane;
    const end = start + plane;
    for (let k = 0; k < c; k++) {
      let sum = 0;
      let sq = 0;
      for (let p = start + k; p < end; p += c) {
        const v = xs[p]!;
        sum += v;
        sq += v * v;
      }
      const mean = sum / count;
      const variance = Math.max(0, sq / count - mean * mean);
      const scale = g[k]! / Math.sqrt(variance + eps);
      const shift = b[k]! - mean * scale;
      if (relu) {
        for (let p = start + k; p < end; p += c) {
          const v = xs[p]! * scale + shift;
          ys[p] = v > 0 ? v : 0;
        }
      } else {
        for (let p = start + k; p < end; p += c) ys[p] = xs[p]! * scale + shift;
      }
    }
  }
  return out;
}

// ---- WebGL -----------------------------------------------------------------------------------

interface WebGLLikeBackend {
  runWebGLProgram(program: object, inputs: tf.TensorInfo[], dtype: tf.DataType): tf.TensorInfo;
  disposeIntermediateTensorInfo(t: tf.TensorInfo): void;
}

const glFloat = (v: number): string => (Number.isInteger(v) ? `${v}.0` : `${v}`);

function webglInstanceNorm(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const { x, gamma, beta } = args.inputs as Record<string, tf.TensorInfo>;
  const { eps, relu } = args.attrs as unknown as Attrs;
  const backend = args.backend as WebGLLikeBackend;
  const [, h, w, c] = x!.shape as [number, number, number, number];
  // Per row r and channel d: [sum, sum of squares] over the row's w pixels.
  const rows = backend.runWebGLProgram({
    variableNames: ['x'],
    outputShape: [2, h, c],
    userCode: `
      void main() {
        ivec3 o = getOutputCoords();
        float s = 0.0;
        for (int i = 0; i < ${w}; i++) {
          float v = getX(0, o.y, i, o.z);
          s += o.x == 0 ? v : v * v;
        }
        setOutput(s);
      }`,
  }, [x!], 'float32');
  // Per channel: [mean, E[x²]].
  const moments = backend.runWebGLProgram({
    variableNames: ['r'],
    outputShape: [2, c],
    userCode: `
      void main() {
        ivec2 o = getOutputCoords();
        float s = 0.0;
        for (int i = 0; i < ${h}; i++) s += getR(o.x, i, o.y);
        setOutput(s / ${glFloat(h * w)});
      }`,
  }, [rows], 'float32');
  backend.disposeIntermediateTensorInfo(rows);
  const out = backend.runWebGLProgram({
    variableNames: ['x', 'm', 'gamma', 'beta'],
    outputShape: x!.shape,
    userCode: `
      void main() {
        ivec4 o = getOutputCoords();
        int d = o.w;
        float mean = getM(0, d);
        float variance = max(getM(1, d) - mean * mean, 0.0);
        float v = (getX(o.x, o.y, o.z, d) - mean) * inversesqrt(variance + ${glFloat(eps)}) * getGamma(d) + getBeta(d);
        setOutput(${relu ? 'max(v, 0.0)' : 'v'});
      }`,
  }, [x!, moments, gamma!, beta!], 'float32');
  backend.disposeIntermediateTensorInfo(moments);
  return out;
}

// ---- WebGPU ----------------------------------------------------------------------------------

interface WebGPULikeBackend {
  runWebGPUProgram(program: object, inputs: tf.TensorInfo[], dtype: tf.DataType): tf.TensorInfo;
  disposeData(dataId: tf.DataId): void;
}

const WG = 64;

/** A flat WebGPU program: one invocation per output element, `body` sees `index`. */
function wgslProgram(variableNames: string[], outputShape: number[], key: string, body: string): object {
  const size = outputShape.reduce((a, b) => a * b, 1);
  return {
    variableNames,
    outputShape,
    shaderKey: `brushcam_in_${key}`,
    dispatchLayout: { x: outputShape.map((_, i) => i) },
    dispatch: [Math.ceil(size / WG), 1, 1],
    workgroupSize: [WG, 1, 1],
    size: true,
    getUserCode: () => `
      fn main(index : i32) {
        if (index < uniforms.size) {
          ${body}
        }
      }`,
  };
}

function webgpuInstanceNorm(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const { x, gamma, beta } = args.inputs as Record<string, tf.TensorInfo>;
  const { eps, relu } = args.attrs as unknown as Attrs;
  const backend = args.backend as WebGPULikeBackend;
  const [, h, w, c] = x!.shape as [number, number, number, number];
  const rows = backend.runWebGPUProgram(wgslProgram(['x'], [2, h, c], `rows_${w}`, `
          let o = getCoordsFromIndex(index);
          var s = 0.0;
          for (var i = 0; i < ${w}; i = i + 1) {
            let v = getX(0, o[1], i, o[2]);
            s = s + select(v * v, v, o[0] == 0);
          }
          setOutputAtIndex(index, s);`), [x!], 'float32');
  const moments = backend.runWebGPUProgram(wgslProgram(['r'], [2, c], `moments_${h}_${w}`, `
          let o = getCoordsFromIndex(index);
          var s = 0.0;
          for (var i = 0; i < ${h}; i = i + 1) {
            s = s + getR(o[0], i, o[1]);
          }
          setOutputAtIndex(index, s / ${glFloat(h * w)});`), [rows], 'float32');
  backend.disposeData(rows.dataId);
  const out = backend.runWebGPUProgram(wgslProgram(['x', 'm', 'gamma', 'beta'], x!.shape, `apply_${relu ? 1 : 0}_${eps}`, `
          let o = getCoordsFromIndex(index);
          let d = o[3];
          let mean = getM(0, d);
          let variance = max(getM(1, d) - mean * mean, 0.0);
          let v = (getX(o[0], o[1], o[2], d) - mean) * inverseSqrt(variance + ${glFloat(eps)}) * getGamma(d) + getBeta(d);
          setOutputAtIndex(index, ${relu ? 'max(v, 0.0)' : 'v'});`), [x!, moments, gamma!, beta!], 'float32');
  backend.disposeData(moments.dataId);
  return out;
}

const KERNELS: Record<string, tf.KernelFunc> = {
  wasm: wasmInstanceNorm as unknown as tf.KernelFunc,
  webgl: webglInstanceNorm as unknown as tf.KernelFunc,
  webgpu: webgpuInstanceNorm as unknown as tf.KernelFunc,
};

let registered = false;
function register(): void {
  if (registered) return;
  registered = true;
  for (const [backendName, kernelFunc] of Object.entries(KERNELS)) {
    if (!tf.getKernel(INSTANCE_NORM_KERNEL, backendName)) tf.registerKernel({ kernelName: INSTANCE_NORM_KERNEL, backendName, kernelFunc });
  }
}

/** The composite: what every backend can run (and what the fused kernels must agree with). */
export function instanceNormComposite(x: tf.Tensor4D, gamma: tf.Tensor, beta: tf.Tensor, eps: number, relu: boolean): tf.Tensor4D {
  return tf.tidy(() => {
    // Per-channel mean and E[x²] over H×W as global average pools.
    const [, h, w] = x.shape;
    const mean = tf.avgPool(x, [h, w], 1, 'valid');
    const meanSq = tf.avgPool(tf.square(x), [h, w], 1, 'valid');
    const variance = tf.relu(tf.sub(meanSq, tf.square(mean)));
    const scale = tf.mul(tf.rsqrt(tf.add(variance, eps)), gamma);
    const shift = tf.sub(beta, tf.mul(mean, scale));
    const y = tf.add(tf.mul(x, scale), shift) as tf.Tensor4D;
    return relu ? tf.relu(y) : y;
  });
}

/** Whether the current backend has the fused kernel (and `x` is one it handles). */
export function hasFusedInstanceNorm(x?: tf.Tensor4D): boolean {
  register();
  return Boolean(tf.getKernel(INSTANCE_NORM_KERNEL, tf.getBackend())) && (!x || x.shape[0] === 1 || tf.getBackend() === 'wasm');
}

/**
 * y = γ·(x − mean)/√(var + eps) + β per sample and channel over H×W (then max(y, 0) when
 * `relu`). `x`: [N, H, W, C] float32; `gamma`, `beta`: [C].
 */
export function instanceNorm(x: tf.Tensor4D, gamma: tf.Tensor, beta: tf.Tensor, eps: number, relu = false): tf.Tensor4D {
  if (!hasFusedInstanceNorm(x) || x.dtype !== 'float32') return instanceNormComposite(x, gamma, beta, eps, relu);
  const g = gamma.rank === 1 ? gamma : tf.reshape(gamma, [-1]);
  const b = beta.rank === 1 ? beta : tf.reshape(beta, [-1]);
  try {
    return tf.engine().runKernel(INSTANCE_NORM_KERNEL, { x, gamma: g, beta: b } as unknown as tf.NamedTensorMap, { eps, relu } as unknown as tf.NamedAttrMap) as tf.Tensor4D;
  } finally {
    if (g !== gamma) g.dispose();
    if (b !== beta) b.dispose();
  }
}
