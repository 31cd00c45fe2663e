// tools/face-model: the shipped BlazeFace model is the npm package's network, byte for byte,
// plus metadata equivalent to the known-good reference's (../shared/data/face-detector).
// Whether tasks-vision accepts it and detects the same faces: test/unit/face-model.test.ts.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { attachMetadata } from '../../tools/face-model/attach.mjs';
import { buildFaceModel, NPM_MODEL, OUTPUT } from '../../tools/face-model/build-face-model.mjs';
import { buildMetadata } from '../../tools/face-model/metadata.mjs';
import { FlatReader, readTflite } from '../../tools/face-model/tflite.mjs';

const REFERENCE = fileURLToPath(new URL('../../../shared/data/face-detector/blaze_face_short_range.reference.tflite', import.meta.url));
const read = (p) => new Uint8Array(readFileSync(p));

/** The metadata flatbuffer as a plain object, every field this model's metadata uses. */
function metadataTree(bytes) {
  const r = new FlatReader(bytes);
  assert.equal(r.identifier(), 'M001');
  const str = (t, i) => (r.field(t, i) ? r.string(r.field(t, i)) : undefined);
  const floats = (t, i) => {
    if (!r.field(t, i)) return undefined;
    const v = r.vector(r.field(t, i));
    return Array.from({ length: v.length }, (_, k) => r.view.getFloat32(v.start + 4 * k, true));
  };
  const u8 = (t, i) => (r.field(t, i) ? r.bytes[r.field(t, i)] : 0);
  const tensor = (t) => {
    const c = r.deref(r.field(t, 3));
    const props = r.deref(r.field(c, 1));
    const units = r.field(t, 4) ? r.tables(r.field(t, 4)).map((u) => ({ type: u8(u, 0), mean: floats(r.deref(r.field(u, 1)), 0), std: floats(r.deref(r.field(u, 1)), 1) })) : [];
    const stats = r.field(t, 5) ? r.deref(r.field(t, 5)) : 0;
    return {
      name: str(t, 0), description: str(t, 1), contentType: u8(c, 0),
      colorSpace: u8(c, 0) === 2 ? u8(props, 0) : undefined, units,
      stats: stats ? { max: floats(stats, 0), min: floats(stats, 1) } : undefined,
    };
  };
  const root = r.root();
  const sg = r.tables(r.field(root, 3))[0];
  return {
    name: str(root, 0), description: str(root, 1), version: str(root, 2), author: str(root, 4), minParser: str(root, 7),
    inputs: r.tables(r.field(sg, 2)).map(tensor), outputs: r.tables(r.field(sg, 3)).map(tensor),
  };
}

test('the committed model is what the tool builds from the npm package', () => {
  assert.ok(existsSync(NPM_MODEL), `${NPM_MODEL} missing: npm install`);
  assert.deepEqual(read(OUTPUT), buildFaceModel());
});

test('the metadata says: RGB image normalised by 127.5 / 127.5, two raw outputs', () => {
  const m = metadataTree(buildMetadata());
  assert.equal(m.inputs.length, 1);
  assert.equal(m.inputs[0].colorSpace, 1); // RGB
  assert.deepEqual(m.inputs[0].units, [{ type: 1, mean: [127.5], std: [127.5] }]);
  assert.deepEqual(m.outputs.map((o) => o.name), ['raw boxes/keypoints', 'scores']);
});

test('same weights as the npm model and the reference, metadata equivalent to the reference', () => {
  assert.ok(existsSync(REFERENCE), `${REFERENCE} missing (../shared/data beside the clone)`);
  const npm = readTflite(read(NPM_MODEL));
  const ours = readTflite(read(OUTPUT));
  const ref = readTflite(read(REFERENCE));
  assert.equal(npm.metadata.length, 0);
  assert.deepEqual(ours.metadata, [{ name: 'TFLITE_METADATA', buffer: npm.buffers.length }]);
  assert.deepEqual(ref.metadata, [{ name: 'TFLITE_METADATA', buffer: npm.buffers.length }]);
  assert.equal(ours.buffers.length, npm.buffers.length + 1);
  assert.equal(ref.buffers.length, npm.buffers.length + 1);
  for (let i = 0; i < npm.buffers.length; i++) {
    assert.deepEqual(ours.buffers[i], npm.buffers[i], `buffer ${i}`);
    assert.deepEqual(ours.buffers[i], ref.buffers[i], `buffer ${i} vs the reference`);
  }
  const weightBytes = npm.buffers.reduce((a, b) => a + b.length, 0);
  assert.ok(weightBytes > 200_000, `${weightBytes} bytes of weights`);
  assert.equal(ours.buffers.at(-1).length, ref.buffers.at(-1).length);
  assert.deepEqual(metadataTree(ours.buffers.at(-1)), metadataTree(ref.buffers.at(-1)));
  // Everything else in the model (operators, subgraph, tensors) is the npm model's bytes, moved.
  const shift = read(OUTPUT).length - read(NPM_MODEL).length;
  assert.deepEqual(read(OUTPUT).subarray(8 + shift), read(NPM_MODEL).subarray(8));
});

test('refuses a model that already has metadata, and anything that is not TFLite', () => {
  assert.throws(() => attachMetadata(read(OUTPUT), buildMetadata()), /already carries metadata/);
  assert.throws(() => attachMetadata(buildMetadata(), buildMetadata()), /not a TFLite model/);
});
