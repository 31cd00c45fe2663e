// Attaches a metadata flatbuffer to a TFLite model without re-serialising the model: the new
// root Model table, its buffers and metadata vectors, the metadata's Buffer and the metadata
// bytes go into a region inserted right after the 8-byte header. Every original object moves
// by the same (16-byte multiple) distance, so its internal relative offsets, alignment and the
// weights stay byte for byte as they were; the new objects only point forward into them, as
// flatbuffers' unsigned offsets require. The old root table is left in place, unreferenced.
import { FlatReader, MODEL } from './tflite.mjs';

const align = (n, a) => Math.ceil(n / a) * a;

/**
 * @param {Uint8Array} model a TFLite flatbuffer ("TFL3") without metadata
 * @param {Uint8Array} metadata the metadata flatbuffer
 * @param {string} name the metadata entry's name (TFLite's readers look for TFLITE_METADATA)
 * @returns {Uint8Array} the model with `metadata` attached as a new last buffer
 */
export function attachMetadata(model, metadata, name = 'TFLITE_METADATA') {
  const r = new FlatReader(model);
  if (r.identifier() !== 'TFL3') throw new Error(`not a TFLite model (identifier '${r.identifier()}', expected 'TFL3')`);
  const oldRoot = r.root();
  if (r.field(oldRoot, MODEL.metadata)) throw new Error('the model already carries metadata; attach to a model without any');
  const oldBuffers = r.tables(r.field(oldRoot, MODEL.buffers));
  const nFields = Math.max(r.fieldCount(oldRoot), MODEL.metadata + 1);
  const nameBytes = new TextEncoder().encode(name);

  // Layout, as absolute positions in the new file (the region starts at 8).
  let at = 8;
  const take = (size, a = 4) => { at = align(at, a); const p = at; at += size; return p; };
  const modelVt = take(4 + 2 * nFields, 2);
  const modelTable = take(4 + 4 * nFields);
  const buffersVec = take(4 + 4 * (oldBuffers.length + 1));
  const metaVec = take(8);
  const metaVt = take(8, 2);
  const metaTable = take(12);
  const bufVt = take(6, 2);
  const bufTable = take(8);
  const nameStr = take(4 + nameBytes.length + 1);
  // Metadata bytes 16-aligned: their length prefix sits just before.
  at = align(at + 4, 16) - 4;
  const dataVec = take(4 + metadata.length);
  const shift = align(at, 16) - 8; // the inserted region's size: original objects move by this

  const out = new Uint8Array(model.length + shift);
  const v = new DataView(out.buffer);
  out.set(model.subarray(8), 8 + shift);
  out.set(model.subarray(4, 8), 4); // file identifier
  const moved = (oldPos) => oldPos + shift;
  const uoffset = (at, target) => v.setUint32(at, target - at, true);

  // Model: same fields as before (pointing at the moved originals), new buffers and metadata.
  v.setUint32(0, modelTable, true);
  v.setUint16(modelVt, 4 + 2 * nFields, true);
  v.setUint16(modelVt + 2, 4 + 4 * nFields, true);
  v.setInt32(modelTable, modelTable - modelVt, true);
  for (let i = 0; i < nFields; i++) {
    const slot = modelTable + 4 + 4 * i;
    const old = i < r.fieldCount(oldRoot) ? r.field(oldRoot, i) : 0;
    let present = true;
    if (i === MODEL.buffers) uoffset(slot, buffersVec);
    else if (i === MODEL.metadata) uoffset(slot, metaVec);
    else if (!old) present = false;
    else if (i === MODEL.version) v.setUint32(slot, r.u32(old), true);
    else uoffset(slot, moved(r.deref(old)));
    v.setUint16(modelVt + 4 + 2 * i, present ? slot - modelTable : 0, true);
  }
  // buffers: the originals, then the metadata's.
  v.setUint32(buffersVec, oldBuffers.length + 1, true);
  oldBuffers.forEach((t, k) => uoffset(buffersVec + 4 + 4 * k, moved(t)));
  uoffset(buffersVec + 4 + 4 * oldBuffers.length, bufTable);
  // metadata: [Metadata { name, buffer }]
  v.setUint32(metaVec, 1, true);
  uoffset(metaVec + 4, metaTable);
  v.setUint16(metaVt, 8, true);
  v.setUint16(metaVt + 2, 12, true);
  v.setUint16(metaVt + 4, 4, true);
  v.setUint16(metaVt + 6, 8, true);
  v.setInt32(metaTable, metaTable - metaVt, true);
  uoffset(metaTable + 4, nameStr);
  v.setUint32(metaTable + 8, oldBuffers.length, true);
  // Buffer { data }
  v.setUint16(bufVt, 6, true);
  v.setUint16(bufVt + 2, 8, true);
  v.setUint16(bufVt + 4, 4, true);
  v.setInt32(bufTable, bufTable - bufVt, true);
  uoffset(bufTable + 4, dataVec);
  v.setUint32(nameStr, nameBytes.length, true);
  out.set(nameBytes, nameStr + 4);
  v.setUint32(dataVec, metadata.length, true);
  out.set(metadata, dataVec + 4);
  return out;
}
