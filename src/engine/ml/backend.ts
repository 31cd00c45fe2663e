import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-webgpu';
import { setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import type { BackendPreference } from '../../shared/settings';
import { isSoftwareGl, SOFTWARE_RENDERER } from '../../shared/software-gpu';

export type BackendName = 'webgpu' | 'webgl' | 'wasm';
export const BACKEND_ORDER: readonly BackendName[] = ['webgpu', 'webgl', 'wasm'];

/** GPU backends whose device was lost in this worker: never picked again here. */
const lost = new Set<BackendName>();
/** WebGPU devices whose `lost` promise has settled. */
const lostDevices = new WeakSet<object>();
const watchedDevices = new WeakSet<object>();

interface GpuHandles {
  gl?: WebGL2RenderingContext | WebGLRenderingContext;
  device?: GPUDevice;
}

/** The backend instance when tfjs has already started it (tf.findBackend would start it). */
function initialised(name: string): unknown {
  return (tf.engine() as unknown as { registry: Record<string, unknown> }).registry[name] ?? null;
}

/** The WebGL context or WebGPU device of a started GPU backend. */
function gpuOf(name: string): GpuHandles {
  const b = initialised(name) as { gpgpu?: { gl?: WebGL2RenderingContext }; device?: GPUDevice } | null;
  return { gl: b?.gpgpu?.gl, device: b?.device };
}

function watchDevice(device: GPUDevice | undefined): void {
  if (!device || watchedDevices.has(device)) return;
  watchedDevices.add(device);
  void device.lost.then(() => lostDevices.add(device));
}

/** True when the device under GPU backend `name` is gone (WebGL context lost, WebGPU device destroyed or lost). */
export function gpuLost(name: string): boolean {
  if (name === 'webgl') return !!gpuOf(name).gl?.isContextLost();
  if (name === 'webgpu') {
    const device = gpuOf(name).device;
    return !!device && lostDevices.has(device);
  }
  return false;
}

/** The current tfjs backend when it is a GPU backend that has lost its device, else null. */
export function lostBackend(): BackendName | null {
  const name = tf.getBackend() as BackendName;
  return gpuLost(name) ? name : null;
}

/** A GPU backend whose device went away and that is not in `known`, or null. */
export function newlyLostGpu(known: ReadonlySet<string>): BackendName | null {
  return (['webgpu', 'webgl'] as const).find((n) => !known.has(n) && gpuLost(n)) ?? null;
}

/** The GPU backends lost so far. */
export function lostGpus(): Set<string> {
  return new Set((['webgpu', 'webgl'] as const).filter((n) => gpuLost(n)));
}

/**
 * Makes `name` tfjs's current backend. tfjs has one global backend, so every painter switches
 * to its own before it runs, inside {@link exclusive}, and two sessions on different backends
 * never mix.
 */
export async function onBackend(name: BackendName): Promise<void> {
  await tf.ready();
  if (gpuLost(name)) throw new Error(`${name} was lost`);
  if (tf.getBackend() !== name && !(await tf.setBackend(name))) throw new Error(`${name} could not be selected`);
}

let gate: Promise<void> = Promise.resolve();

/**
 * Runs `fn` alone: one piece of tfjs work (a backend switch, a model load, a paint) at a time in
 * this worker. The gate also opens when a GPU is lost while `fn` runs, so work hung on a dead
 * device cannot hold everyone else.
 */
export function exclusive<T>(fn: () => Promise<T>): Promise<T> {
  const prev = gate;
  let release!: () => void;
  gate = new Promise<void>((r) => (release = r));
  const run = prev.then(() => {
    // Only a started GPU backend can be lost (the common WASM case sets no timer per frame).
    const known = lostGpus();
    const timer = initialised('webgl') || initialised('webgpu')
      ? setInterval(() => {
        if (newlyLostGpu(known)) release();
      }, 100)
      : undefined;
    const work = fn();
    void work.then(() => {}, () => {}).finally(() => {
      clearInterval(timer);
      release();
    });
    return work;
  });
  return run;
}

/**
 * `work`, or a rejection as soon as `isLost` names a lost GPU (polled every `pollMs`): GPU work
 * that was running when the device went away may never settle, since tfjs waits on fences a
 * lost context never signals. `late` frees whatever abandoned work hands back if it ever does.
 */
export function unlessGpuLost<T>(work: Promise<T>, what: string, late: (v: T) => void, isLost: () => string | null, pollMs = 100): Promise<T> {
  let timer: ReturnType<typeof setInterval> | undefined;
  const loss = new Promise<never>((_, reject) => {
    timer = setInterval(() => {
      const lost = isLost();
      if (!lost) return;
      work.then(late, () => {});
      reject(new Error(`${lost} was lost while ${what}`));
    }, pollMs);
  });
  return Promise.race([work, loss]).finally(() => clearInterval(timer));
}

/** `useBackend` passes over this backend from now on (its device went away). */
export function markBackendLost(name: BackendName): void {
  lost.add(name);
}

/**
 * Fault injection: makes every GPU that tfjs uses in this worker go away as a driver reset
 * would (WEBGL_lose_context, GPUDevice.destroy()). Returns the first backend that lost one, or
 * null when tfjs has no GPU backend running here.
 */
export function simulateGpuLoss(): BackendName | null {
  let first: BackendName | null = null;
  for (const name of ['webgpu', 'webgl'] as const) {
    if (!initialised(name) || gpuLost(name)) continue;
    const { gl, device } = gpuOf(name);
    if (name === 'webgl' && gl) gl.getExtension('WEBGL_lose_context')?.loseContext();
    if (name === 'webgpu' && device) {
      // destroy() settles `lost`; mark it now so the very next check sees it.
      lostDevices.add(device);
      device.destroy();
    }
    first ??= name;
  }
  return first;
}

/** Whether this context may run the WASM backend's threads (SharedArrayBuffer is shareable). */
export function wasmThreadsAvailable(): boolean {
  return (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true && typeof SharedArrayBuffer === 'function';
}

/** The WASM backend's thread count where threads are available: every logical core, 2 to 4. */
export function wasmThreadsWanted(): number {
  const cores = (globalThis.navigator as Navigator | undefined)?.hardwareConcurrency ?? 2;
  return Math.max(2, Math.min(4, cores));
}

/** How many threads the WASM backend runs its kernels on (1 when single-threaded or not started). */
export function wasmThreads(): number {
  const b = initialised('wasm') as { wasm?: { tfjs?: { getThreadsCount?: () => number } } } | null;
  return b?.wasm?.tfjs?.getThreadsCount?.() ?? 1;
}

/**
 * Moves the running WASM backend to `n` threads from its next kernel on. tfjs makes a new thread
 * pool each time and keeps no handle on the old one (its threads stay parked, idle), so callers
 * switch a bounded number of times (src/engine/threads.ts: at most 4 per engine worker).
 */
export function setWasmThreadsNow(n: number): void {
  const b = initialised('wasm') as { wasm?: { tfjs?: { initWithThreadsCount?: (n: number) => void } } } | null;
  const init = b?.wasm?.tfjs?.initWithThreadsCount;
  if (!init) throw new Error('the WASM backend is not running');
  if (wasmThreads() !== n) init(n);
}

/** The backend's name for the popup: `tfjs-wasm`, `tfjs-wasm (2 threads)`, `tfjs-webgl`... */
export function backendLabel(name: BackendName, extra = ''): string {
  const threads = name === 'wasm' ? wasmThreads() : 1;
  return `tfjs-${name}${extra}${threads > 1 ? ` (${threads} threads)` : ''}`;
}

/** True when WebGPU is only a CPU emulation (slower than WASM for our networks). */
async function webgpuIsSoftware(): Promise<boolean> {
  const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
  if (!gpu) return true;
  const adapter = await gpu.requestAdapter().catch(() => null);
  if (!adapter) return true;
  const info = (adapter as GPUAdapter & { info?: GPUAdapterInfo & { isFallbackAdapter?: boolean } }).info;
  return !!info && (info.isFallbackAdapter === true || SOFTWARE_RENDERER.test(`${info.vendor} ${info.architecture} ${info.description} ${info.device}`));
}

/** True when WebGL runs on a CPU rasteriser. */
function webglIsSoftware(): boolean {
  try {
    const gl = new OffscreenCanvas(1, 1).getContext('webgl2');
    if (!gl) return true;
    const software = isSoftwareGl(gl);
    gl.getExtension('WEBGL_lose_context')?.loseContext();
    return software;
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
  // Threads need SharedArrayBuffer, so a cross-origin-isolated context (Chromium's offscreen
  // engine); the build starts them from the extension's own files (rollup.config.mjs). Elsewhere
  // (the engine frame in a page, Firefox) the WASM backend runs on one thread, SIMD on.
  // tfjs's default is half the logical cores (one thread on a 2-core laptop): take them all, up to 4.
  if (!wasmThreadsAvailable()) tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  else setThreadsCount(wasmThreadsWanted());
  // A chosen backend first, then the ones after it in the usual order, then the rest.
  const at = pref === 'auto' ? 0 : BACKEND_ORDER.indexOf(pref);
  const order = [...BACKEND_ORDER.slice(at), ...BACKEND_ORDER.slice(0, at)];
  const errors: string[] = [];
  for (const name of order) {
    if (lost.has(name) || gpuLost(name)) {
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
