/**
 * A reader for TFLite flatbuffers (tensorflow/lite/schema/schema.fbs): the first subgraph's
 * tensors (shape, type, constant data) and operators (builtin code, inputs, outputs, options),
 * enough to run a small float model with another runtime. No schema compiler: offsets are
 * followed by hand (uoffset_t = u32 forward, vtable = i32 backward).
 */

/** TensorType values the reader decodes. */
export const TensorType = { FLOAT32: 0, FLOAT16: 1, INT32: 2 } as const;

/** BuiltinOperator codes (schema.fbs). */
export const Op = {
  ADD: 0, CONCATENATION: 2, CONV_2D: 3, DEPTHWISE_CONV_2D: 4, DEQUANTIZE: 6,
  MAX_POOL_2D: 17, RELU: 19, RESHAPE: 22, PAD: 34,
} as const;

export interface TfliteTensor {
  name: string;
  shape: number[];
  type: number;
  /** Constant data (weights, paddings) decoded to numbers; null for activations. */
  data: Float32Array | Int32Array | null;
}

export interface TfliteOperator {
  /** Builtin operator code (see {@link Op}). */
  code: number;
  inputs: number[];
  outputs: number[];
  /** The builtin options table's scalar field `i` read as a byte or an int32 (`def` when absent). */
  byte(i: number, def: number): number;
  int(i: number, def: number): number;
}

export interface TfliteGraph {
  tensors: TfliteTensor[];
  operators: TfliteOperator[];
  inputs: number[];
  outputs: number[];
}

export class TfliteFormatError extends Error {}

/** IEEE 754 half → float. */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

class Flat {
  readonly view: DataView;
  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  u32(o: number): number {
    return this.view.getUint32(o, true);
  }
  deref(o: number): number {
    return o + this.u32(o);
  }
  /** Absolute position of field `i` of the table at `pos`, or 0 when absent. */
  field(pos: number, i: number): number {
    const vt = pos - this.view.getInt32(pos, true);
    if (4 + 2 * i >= this.view.getUint16(vt, true)) return 0;
    const off = this.view.getUint16(vt + 4 + 2 * i, true);
    return off ? pos + off : 0;
  }
  fieldCount(pos: number): number {
    return (this.view.getUint16(pos - this.view.getInt32(pos, true), true) - 4) / 2;
  }
  vector(o: number): { length: number; start: number } {
    const p = this.deref(o);
    return { length: this.u32(p), start: p + 4 };
  }
  tables(o: number): number[] {
    if (!o) return [];
    const v = this.vector(o);
    return Array.from({ length: v.length }, (_, k) => this.deref(v.start + 4 * k));
  }
  ints(o: number): number[] {
    if (!o) return [];
    const v = this.vector(o);
    return Array.from({ length: v.length }, (_, k) => this.view.getInt32(v.start + 4 * k, true));
  }
  string(o: number): string {
    if (!o) return '';
    const v = this.vector(o);
    return new TextDecoder().decode(this.bytes.subarray(v.start, v.start + v.length));
  }
  bytesAt(o: number): Uint8Array {
    const v = this.vector(o);
    return this.bytes.subarray(v.start, v.start + v.length);
  }
}

/** Field indices in schema.fbs. */
const MODEL_OPCODES = 1, MODEL_SUBGRAPHS = 2, MODEL_BUFFERS = 4;

/**
 * The first subgraph of a TFLite model. Throws {@link TfliteFormatError} naming what was
 * expected when `bytes` is not a TFLite model or uses a tensor type this reader cannot decode.
 */
export function readTfliteGraph(bytes: Uint8Array): TfliteGraph {
  if (bytes.length < 8) throw new TfliteFormatError(`not a TFLite model: ${bytes.length} bytes (expected a "TFL3" flatbuffer)`);
  const ident = new TextDecoder().decode(bytes.subarray(4, 8));
  if (ident !== 'TFL3') throw new TfliteFormatError(`not a TFLite model (identifier '${ident}', expected 'TFL3')`);
  const r = new Flat(bytes);
  const root = r.deref(0);
  const codes = r.tables(r.field(root, MODEL_OPCODES)).map((t) => {
    // builtin_code (int32, field 3) replaced deprecated_builtin_code (int8, field 0) at 127
    const wide = r.field(t, 3);
    const narrow = r.field(t, 0);
    return Math.max(wide ? r.view.getInt32(wide, true) : 0, narrow ? r.view.getInt8(narrow) : 0);
  });
  const buffers = r.tables(r.field(root, MODEL_BUFFERS)).map((t) => {
    const d = r.field(t, 0);
    return d ? r.bytesAt(d) : new Uint8Array(0);
  });
  const sg = r.tables(r.field(root, MODEL_SUBGRAPHS))[0];
  if (sg === undefined) throw new TfliteFormatError('TFLite model without a subgraph');
  const tensors = r.tables(r.field(sg, 0)).map((t): TfliteTensor => {
    const shape = r.ints(r.field(t, 0));
    const typeAt = r.field(t, 1);
    const type = typeAt ? r.view.getInt8(typeAt) : TensorType.FLOAT32;
    const bufAt = r.field(t, 2);
    const raw = bufAt ? buffers[r.u32(bufAt)] : undefined;
    const name = r.string(r.field(t, 3));
    let data: Float32Array | Int32Array | null = null;
    if (raw && raw.length) {
      const n = shape.reduce((a, b) => a * b, 1);
      const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      if (type === TensorType.FLOAT32) data = Float32Array.from({ length: n }, (_, k) => v.getFloat32(4 * k, true));
      else if (type === TensorType.FLOAT16) data = Float32Array.from({ length: n }, (_, k) => halfToFloat(v.getUint16(2 * k, true)));
      else if (type === TensorType.INT32) data = Int32Array.from({ length: n }, (_, k) => v.getInt32(4 * k, true));
      else throw new TfliteFormatError(`tensor '${name}': type ${type} (expected FLOAT32, FLOAT16 or INT32 constants)`);
      if (raw.length < n * (type === TensorType.FLOAT16 ? 2 : 4)) {
        throw new TfliteFormatError(`tensor '${name}': ${raw.length} bytes of data for shape [${shape}]`);
      }
    }
    return { name, shape, type, data };
  });
  const operators = r.tables(r.field(sg, 3)).map((o): TfliteOperator => {
    const oi = r.field(o, 0);
    const code = codes[oi ? r.u32(oi) : 0];
    if (code === undefined) throw new TfliteFormatError('operator with an opcode index past the model\'s operator codes');
    const optAt = r.field(o, 4);
    const opt = optAt ? r.deref(optAt) : 0;
    const at = (i: number): number => (opt ? r.field(opt, i) : 0);
    return {
      code, inputs: r.ints(r.field(o, 1)), outputs: r.ints(r.field(o, 2)),
      byte: (i, def) => (at(i) ? r.view.getInt8(at(i)) : def),
      int: (i, def) => (at(i) ? r.view.getInt32(at(i), true) : def),
    };
  });
  return { tensors, operators, inputs: r.ints(r.field(sg, 1)), outputs: r.ints(r.field(sg, 2)) };
}
