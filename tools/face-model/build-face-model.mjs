#!/usr/bin/env node
// Builds models/face/blaze_face_short_range.tflite: BlazeFace short range from the npm package
// @mediapipe/face_detection (Apache-2.0, no metadata) with TFLite model metadata attached, which
// @mediapipe/tasks-vision's FaceDetector needs for a float input (normalisation 127.5 / 127.5).
//   node tools/face-model/build-face-model.mjs [--in model.tflite] [--out file.tflite]
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { attachMetadata } from './attach.mjs';
import { buildMetadata } from './metadata.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
export const NPM_MODEL = join(root, 'node_modules/@mediapipe/face_detection/face_detection_short_range.tflite');
export const OUTPUT = join(root, 'models/face/blaze_face_short_range.tflite');

/** The shipped detector model, built from the npm package's bytes. */
export function buildFaceModel(modelBytes = new Uint8Array(readFileSync(NPM_MODEL))) {
  return attachMetadata(modelBytes, buildMetadata());
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { in: { type: 'string', default: NPM_MODEL }, out: { type: 'string', default: OUTPUT } } });
  const out = buildFaceModel(new Uint8Array(readFileSync(values.in)));
  mkdirSync(dirname(values.out), { recursive: true });
  writeFileSync(values.out, out);
  console.log(`${values.out}: ${out.length} bytes`);
}
