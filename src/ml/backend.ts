import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-webgpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import type { BackendPreference } from '../settings';

export type BackendName = 'webgpu' | 'webgl' | 'wasm';
export const BACKEND_ORDER: readonly BackendName[] = ['webgpu', 'webgl', 'wasm'];

const SOFTWARE = /swiftshader|llvmpipe|software|basic render/i;

/** True when WebGPU is only a CPU emulation (slower than WASM for our networks). */
async function webgpuIsSoftware(): Promise<boolean> {
  const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
  if (!gpu) return true;
  const adapter = await gpu.requestAdapter().catch(() => null);
  if (!adapter) return true;
  const info = (adapter as GPUAdapter & { info?: GPUAdapterInfo & { isFallbackAdapter?: boolean } }).info;
  return !!info && (info.isFallbackAdapter === true || SOFTWARE.test(`${info.vendor} ${info.architecture} ${info.description} ${info.device}`));
}

/** True when WebGL runs on a CPU rasteriser. */
function webglIsSoftware(): boolean {
  try {
    const gl = new OffscreenCanvas(1, 1).getContext('webgl2');
    if (!gl) return true;
    const ext = gl.getExtension('WEBGL_debug_renderer_info');
    const renderer = ext ? String(gl.getParameter(ext.UNMASKED_RENDERER_WEBGL)) : String(gl.getParameter(gl.RENDERER));
    gl.getExtension('WEBGL_lose_context')?.loseContext();
    return SOFTWARE.test(renderer);
  } catch {
    return true;
  }
}

/**
 * Selects the tfjs backend: the preferred one, or the first of WebGPU → WebGL → WASM that
 * initialises ('auto' passes over software-emulated GPUs). `wasmBase` is the URL of the folder holding the tfjs .wasm files (shipped in
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
    // 'auto' skips GPUs that are CPU emulations: WASM is faster than those.
    if (pref === 'auto' && name === 'webgpu' && (await webgpuIsSoftware())) {
      errors.push('webgpu: software adapter');
      continue;
    }
    if (pref === 'auto' && name === 'webgl' && webglIsSoftware()) {
      errors.push('webgl: software renderer');
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
