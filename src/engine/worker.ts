/**
 * The engine worker (extension origin): runs neural filters for page pipelines. Each session
 * arrives as a MessagePort from engine.html; a session creates one painter (src/engine/painters.ts)
 * and then paints the frames sent to it, in order.
 */
import './install-network-guard'; // first: before any library module runs
import * as tf from '@tensorflow/tfjs-core';
import { simulateGpuLoss, wasmThreads, wasmThreadsAvailable } from './ml/backend';
import { createPainter, threadChoiceMs } from './painters';
import { serveSession } from './session';

self.onmessage = (e: MessageEvent) => {
  const port = e.ports[0];
  if (e.data?.t === 'session' && port) serveSession(port, createPainter);
  // The live tensor count (soak), and the WASM threads: how many run, whether several could
  // (cross-origin isolated: Chromium's offscreen engine), the times they were chosen by.
  else if (e.data?.t === 'memory') {
    void threadChoiceMs().then((threadMs) => (self as unknown as Worker).postMessage({
      t: 'memory', numTensors: tf.memory().numTensors, threads: wasmThreads(), isolated: wasmThreadsAvailable(), threadMs,
    }));
  }
  // Fault injection for the end-to-end and soak tests: the GPU under the engine goes away
  // (only engine.html, the extension's own page, can post here).
  else if (e.data?.t === 'lose-gpu') (self as unknown as Worker).postMessage({ t: 'lose-gpu', lost: simulateGpuLoss() });
  // The privacy test: what a fetch of `url` does here (the network guard must refuse foreign ones).
  else if (e.data?.t === 'network-probe' && typeof e.data.url === 'string') {
    void fetch(e.data.url).then((r) => `fetched ${r.status}`, (err: unknown) => (err instanceof Error ? `${err.name}: ${err.message}` : String(err)))
      .then((result) => (self as unknown as Worker).postMessage({ t: 'network-probe', result }));
  }
};
