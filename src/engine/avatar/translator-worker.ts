/**
 * The avatar's translator worker (extension origin; see ./translator.ts): loads the avatar model
 * on tfjs's WASM backend, on every core but the engine worker's (which detects, registers and
 * composites beside it), and translates the crops the engine sends, in order.
 */
import '../install-network-guard'; // first: before any library module runs
import * as tf from '@tensorflow/tfjs-core';
import { setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { PaintNet, runOnPixels } from '../ml/paint-net';
import { wasmThreadsAvailable } from '../ml/backend';
import { translatorThreads } from './translator';
import type { FromTranslator, ToTranslator } from './translator';

const scope = self as unknown as Worker;
const post = (m: FromTranslator, transfer: Transferable[] = []): void => scope.postMessage(m, transfer);
let model: PaintNet | null = null;
let queue: Promise<void> = Promise.resolve();

async function load(modelUrl: string, wasm: string, n: number): Promise<void> {
  setWasmPaths(wasm);
  // Every core but one (the engine worker's: detection, face lock, compositing), at most three;
  // threads only where SharedArrayBuffer is (Chromium's offscreen engine), else one, SIMD.
  const threads = translatorThreads(navigator.hardwareConcurrency);
  if (threads > 1 && wasmThreadsAvailable()) setThreadsCount(threads);
  else tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  if (!(await tf.setBackend('wasm'))) throw new Error('the WASM backend did not start in the translator worker');
  await tf.ready();
  model = await PaintNet.load(modelUrl);
  // Compile the kernels before the first crop, at the crops' size.
  await runOnPixels(model, new ImageData(n, n), n, n);
  post({ t: 'ready', backend: 'tfjs-wasm' });
}

scope.onmessage = (e: MessageEvent<ToTranslator>) => {
  const m = e.data;
  if (m?.t === 'load') {
    queue = queue.then(() => load(m.model, m.wasm, m.n)).catch((err: unknown) => post({ t: 'error', message: err instanceof Error ? err.message : String(err) }));
  } else if (m?.t === 'run') {
    queue = queue.then(async () => {
      try {
        if (!model) throw new Error('no model loaded');
        const n = m.n;
        if (!Number.isInteger(n) || n < 8 || m.pixels.byteLength !== n * n * 4) throw new Error(`expected an n×n RGBA crop (n ≥ 8), got ${m.pixels.byteLength} bytes for n = ${n}`);
        const out = await runOnPixels(model, new ImageData(new Uint8ClampedArray(m.pixels), n, n), n, n);
        post({ t: 'out', id: m.id, pixels: out.buffer }, [out.buffer]);
      } catch (err) {
        post({ t: 'error', id: m.id, message: err instanceof Error ? err.message : String(err) });
      }
    });
  }
};
