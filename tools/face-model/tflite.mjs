// A minimal reader for the parts of a TFLite flatbuffer (schema.fbs) that the face model tool
// touches: the Model table's fields, its buffers and its metadata entries. Read-only, no schema
// compiler: offsets are followed by hand (uoffset_t = u32 forward, vtable = i32 backward).

/** Field indices of tflite::Model (schema.fbs). */
export const MODEL = { version: 0, operator_codes: 1, subgraphs: 2, description: 3, buffers: 4, metadata_buffer: 5, metadata: 6, signature_defs: 7 };

export class FlatReader {
  /** @param {Uint8Array} bytes */
  constructor(bytes) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  u32(o) { return this.view.getUint32(o, true); }
  /** Absolute position that the uoffset stored at `o` points to. */
  deref(o) { return o + this.u32(o); }
  identifier() { return new TextDecoder().decode(this.bytes.subarray(4, 8)); }
  root() { return this.deref(0); }
  /** Absolute position of field `i` of the table at `pos`, or 0 when absent. */
  field(pos, i) {
    const vt = pos - this.view.getInt32(pos, true);
    const vlen = this.view.getUint16(vt, true);
    if (4 + 2 * i >= vlen) return 0;
    const off = this.view.getUint16(vt + 4 + 2 * i, true);
    return off ? pos + off : 0;
  }
  /** Number of fields in the vtable of the table at `pos`. */
  fieldCount(pos) { return (this.view.getUint16(pos - this.view.getInt32(pos, true), true) - 4) / 2; }
  /** Elements' positions of the vector whose uoffset is stored at `o`. */
  vector(o) {
    const p = this.deref(o);
    return { length: this.u32(p), start: p + 4 };
  }
  /** Table positions of a vector of tables whose uoffset is stored at `o`. */
  tables(o) {
    const v = this.vector(o);
    return Array.from({ length: v.length }, (_, k) => this.deref(v.start + 4 * k));
  }
  string(o) {
    const v = this.vector(o);
    return new TextDecoder().decode(this.bytes.subarray(v.start, v.start + v.length));
  }
  bytesAt(o) {
    const v = this.vector(o);
    return this.bytes.subarray(v.start, v.start + v.length);
  }
}

/** The model's buffers (their data, empty when absent) and named metadata entries. */
export function readTflite(bytes) {
  const r = new FlatReader(bytes);
  if (r.identifier() !== 'TFL3') throw new Error(`not a TFLite model (identifier '${r.identifier()}', expected 'TFL3')`);
  const root = r.root();
  const buffers = r.tables(r.field(root, MODEL.buffers)).map((t) => {
    const d = r.field(t, 0);
    return d ? r.bytesAt(d) : new Uint8Array(0);
  });
  const mf = r.field(root, MODEL.metadata);
  const metadata = mf
    ? r.tables(mf).map((t) => ({ name: r.string(r.field(t, 0)), buffer: r.u32(r.field(t, 1)) }))
    : [];
  return { reader: r, root, buffers, metadata };
}
