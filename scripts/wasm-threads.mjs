// tfjs-backend-wasm's thread scripts as files (extension pages' CSP refuses the blob: workers tfjs
// makes them from). rollup.config.mjs points tfjs at these names; scripts/package-manifests.mjs
// writes the files next to the .wasm binaries.
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const THREAD_FILES = { worker: 'tfjs-backend-wasm-threaded-simd.worker.js', glue: 'tfjs-backend-wasm-threaded-simd.js' };

/** Writes the thread worker and the glue it imports into `dir`. */
export function writeThreadFiles(root, dir) {
  const out = join(root, 'node_modules/@tensorflow/tfjs-backend-wasm/wasm-out');
  const { wasmWorkerContents } = createRequire(import.meta.url)(join(out, THREAD_FILES.worker));
  if (typeof wasmWorkerContents !== 'string' || !wasmWorkerContents.includes('importScripts(e.data.urlOrBlob)')) {
    throw new Error(`${THREAD_FILES.worker}: expected tfjs's thread worker source (wasmWorkerContents)`);
  }
  // As tfjs does before making its blob: the template literal's newlines are the source's "\n" escapes.
  writeFileSync(join(dir, THREAD_FILES.worker), wasmWorkerContents.replace(/\n/g, '\\n'));
  const glue = readFileSync(join(out, THREAD_FILES.glue), 'utf8');
  if (!glue.startsWith('\nvar WasmBackendModuleThreadedSimd = ') && !glue.startsWith('var WasmBackendModuleThreadedSimd = ')) {
    throw new Error(`${THREAD_FILES.glue}: expected it to define WasmBackendModuleThreadedSimd`);
  }
  writeFileSync(join(dir, THREAD_FILES.glue), glue);
}
