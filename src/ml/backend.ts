import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-webgpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import type { BackendPreference } from '../settings';

export type BackendName = 'webgpu' | 'webgl' | 'wasm';
export const BACKEND_ORDER: readonly BackendName[] = ['webgpu', 'webgl', 'wasm'];

const SOFTWARE = /swiftshader|llvmpipe|software|basic render/i;

/** GPU backends whose device was lost in this worker: never picked again here. */
const lost = new Set<BackendName>();
/** WebGPU devices whose `lost` promise has settled. */
const lostDevices = new WeakSet<object>();
const watchedDevices = new WeakSet<object>();

interface GpuHandles {
  gl?: WebGL2RenderingContext | WebGLRenderingContext;
  device?: GPUDevice;
}

/** The WebGL context or WebGPU device under tfjs's current backend, if it is a GPU one. */
function gpuOf(name: string): GpuHandles {
  const b = tf.findBackend(name) as unknown as { gpgpu?: { gl?: WebGL2RenderingContext }; device?: GPUDevice } | null;
  return { gl: b?.gpgpu?.gl, device: b?.device };
}

function watchDevice(device: GPUDevice | undefined): void {
  if (!device || watchedDevices.has(device)) return;
  watchedDevices.add(device);
  void device.lost.then(() => lostDevices.add(device));
}

/**
 * The current tfjs backend when it is a GPU backend that has lost its device (WebGL context
 * lost, WebGPU device destroyed or lost), else null.
 */
export function lostBackend(): BackendName | null {
  const name = tf.getBackend();
  if (name === 'webgl') return gpuOf(name).gl?.isContextLost() ? 'webgl' : null;
  if (name === 'webgpu') {
    const device = gpuOf(name).device;
    return device && lostDevices.has(device) ? 'webgpu' : null;
  }
  return null;
}

/** `useBackend` passes over this backend from now on (its device went away). */
export function markBackendLost(name: BackendName): void {
  lost.add(name);
}

/**
 * Fault injection: makes the GPU under the current backend go away as a driver reset would
 * (WEBGL_lose_context, GPUDevice.destroy()). Returns the backend that lost it, or null when
 * the current backend has no GPU.
 */
export function simulateGpuLoss(): BackendName | null {
  const name = tf.getBackend();
  const { gl, device } = gpuOf(name);
  if (name === 'webgl' && gl) {
    gl.getExtension('WEBGL_lose_context')?.loseContext();
    return 'webgl';
  }
  if (name === 'webgpu' && device) {
    // destroy() settles `lost`; mark it now so the very next check sees it.
    lostDevices.add(device);
    device.destroy();
    return 'webgpu';
  }
  return null;
}

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
 * Selects the tfjs backend: the preferred one, else the first of WebGPU → WebGL → WASM (from
 * the preferred one on) that initialises. Software-emulated GPUs are taken only when asked for
 * by name, and backends whose device was lost here are never taken again. `wasmBase` is the URL
 * of the folder holding the tfjs .wasm files (shipped in the extension; nothing is fetched from
 * elsewhere).
 */
export async function useBackend(pref: BackendPreference, wasmBase: string): Promise<BackendName> {
  setWasmPaths(wasmBase);
  // Emscripten's threads start blob: workers, which extension pages' CSP forbids; SIMD stays on.
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  // A chosen backend first, then the ones after it in the usual order, then the rest.
  const at = pref === 'auto' ? 0 : BACKEND_ORDER.indexOf(pref);
  const order = [...BACKEND_ORDER.slice(at), ...BACKEND_ORDER.slice(0, at)];
  const errors: string[] = [];
  for (const name of order) {
    if (lost.has(name)) {
      errors.push(`${name}: its device was lost`);
      continue;
    }
    if (name === 'webgpu' && !(globalThis.navigator as Navigator | undefined)?.gpu) {
      errors.push('webgpu: navigator.gpu is not available');
      continue;
    }
    // Other than the one asked for, GPUs that are CPU emulations are passed over: WASM is faster.
    if (name !== pref && name === 'webgpu' && (await webgpuIsSoftware())) {
      errors.push('webgpu: software adapter');
      continue;
    }
    if (name !== pref && name === 'webgl' && webglIsSoftware()) {
      errors.push('webgl: software renderer');
      continue;
    }
    try {
      if (tf.getBackend() === name) return name;
      if (await tf.setBackend(name)) {
        await tf.ready();
        if (name === 'webgpu') watchDevice(gpuOf(name).device);
        return name;
      }
      errors.push(`${name}: failed to initialise`);
    } catch (e) {
      errors.push(`${name}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  throw new Error(`no tfjs backend could start (${errors.join('; ')})`);
}
