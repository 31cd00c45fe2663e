import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-webgpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import type { BackendPreference } from '../settings';

export type BackendName = 'webgpu' | 'webgl' | 'wasm';
export const BACKEND_ORDER: readonly BackendName[] = ['webgpu', 'webgl', 'wasm'];

/**
 * Selects the tfjs backend: the preferred one, or the first of WebGPU → WebGL → WASM that
 * initialises. `wasmBase` is the URL of the folder holding the tfjs .wasm files (shipped in
 * the extension; nothing is fetched from elsewhere).
 */
export async function useBackend(pref: BackendPreference, wasmBase: string): Promise<BackendName> {
  setWasmPaths(wasmBase);
  // Emscripten's threads start blob: workers, which extension pages' CSP forbids; SIMD stays on.
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  const order = pref === 'auto' ? BACKEND_ORDER : [pref, ...BACKEND_ORDER.filter((b) => b !== pref)];
  const errors: string[] = [];
  for (const name of order) {
    if (name === 'webgpu' && !(globalThis.navigator as Navigator | undefined)?.gpu) {
      errors.push('webgpu: navigator.gpu is not available');
      continue;
    }
    try {
      if (tf.getBackend() === name) return name;
      if (await tf.setBackend(name)) {
        await tf.ready();
        return name;
      }
      errors.push(`${name}: failed to initialise`);
    } catch (e) {
      errors.push(`${name}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  throw new Error(`no tfjs backend could start (${errors.join('; ')})`);
}
