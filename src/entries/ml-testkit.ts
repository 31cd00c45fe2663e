/**
 * The tfjs runtime pieces as one ES module for the browser unit tests (tfjs's packages carry
 * CommonJS parts that only the bundler resolves). Not part of the extension.
 */
export * as tf from '@tensorflow/tfjs-core';
export { setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
export { gpuLost, lostBackend, markBackendLost, onBackend, simulateGpuLoss, useBackend, wasmThreads, wasmThreadsWanted } from '../ml/backend';
export { serveSession } from '../engine/session';
export { ModelFormatError, StyleModel } from '../ml/style-model';
export { Stabilizer, DISPLACEMENTS, motionBlock } from '../ml/stabilizer';
export { Stylizer, fidelityLadder, internalSize } from '../engine/stylizer';
export { parseModelsManifest } from '../models';
export { styleFlops } from '../ml/flops';
export { INSTANCE_NORM_KERNEL, instanceNorm, instanceNormComposite, hasFusedInstanceNorm } from '../ml/instance-norm';
export { referenceReCoNet } from '../ml/reference';
export { AvatarPainter, translatorSide, TRANSLATE_SIDES } from '../engine/avatar';
export { FaceFinder } from '../filters/anime/face-detector';
export { CropTracker } from '../filters/anime/crop-tracker';
export { extractCrop } from '../filters/anime/compositor';
export { cropFromEyes } from '../filters/anime/alignment';
