/**
 * The tfjs runtime pieces as one ES module for the browser unit tests (tfjs's packages carry
 * CommonJS parts that only the bundler resolves). Not part of the extension.
 */
export * as tf from '@tensorflow/tfjs-core';
export { setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
export { gpuLost, lostBackend, markBackendLost, onBackend, simulateGpuLoss, useBackend, wasmThreads, wasmThreadsWanted } from '../engine/ml/backend';
export { serveSession } from '../engine/session';
export { ModelFormatError, PaintNet, runOnPixels } from '../engine/ml/paint-net';
export { Stabilizer, DISPLACEMENTS, motionBlock } from '../engine/ml/stabilizer';
export { Stylizer, fidelityLadder, internalSize, WARMUP_RUNS, WARMUP_BUDGET_MS } from '../engine/stylizer';
export { parseModelsManifest } from '../shared/models';
export { styleFlops } from '../engine/ml/flops';
export { INSTANCE_NORM_KERNEL, instanceNorm, instanceNormComposite, hasFusedInstanceNorm } from '../engine/ml/instance-norm';
export { referenceReCoNet } from '../engine/ml/reference';
export { WorkerTranslator, translatorThreads } from '../engine/avatar/translator';
export { AvatarPainter, translatorSide, useTranslatorTier, TRANSLATE_SIDES, FULL_TRANSLATOR_MAX_STRIDE } from '../engine/avatar/avatar-painter';
export { DetectorStride, FaceFinder } from '../engine/avatar/face-detector';
export { CropTracker } from '../engine/avatar/crop-tracker';
export { extractCrop } from '../engine/avatar/compositor';
export { cropFromEyes } from '../engine/avatar/alignment';
export { TfBlazeFace } from '../engine/avatar/blazeface';
export { readTfliteGraph, TfliteFormatError } from '../engine/ml/tflite';
export { FaceMesh } from '../engine/puppet/face-mesh';
export { FaceTracker } from '../engine/puppet/tracker';
export * as rig from '../engine/puppet/rig';
export { PuppetPainter } from '../engine/puppet/painter';
export { drawCharacter } from '../shared/puppet-characters';
