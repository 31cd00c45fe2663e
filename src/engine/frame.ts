/**
 * engine.html: the hidden extension frame a page's pipeline talks to for neural filters. It
 * hands each session port it receives to the engine: in Chromium a multi-threaded engine worker
 * in the extension's offscreen document when one can be reached, else its own engine worker.
 */
import './install-network-guard'; // first: before any library module runs
import { ENGINE_CONNECT } from '../shared/engine-protocol';
import { extensionRouteEnv, frameTarget, openRoute, routeTarget, type EngineTarget } from './route';

// The secret the content script that made this frame put in its address (see EngineHost): only
// sessions that bring it are served, so a page that frames the engine itself cannot use it.
const secret = location.hash.slice(1);
history.replaceState(null, '', location.pathname);

const newWorker = (): Worker => new Worker('engine-worker.js', { name: 'brushcam-engine' });
let local: EngineTarget | null = null;
const ownWorker = (): EngineTarget => (local ??= frameTarget(newWorker, answer));
let target: Promise<EngineTarget> = openRoute(extensionRouteEnv()).then((route) =>
  route ? routeTarget(route, answer, () => { target = Promise.resolve((current = ownWorker())); }) : ownWorker());
let current: EngineTarget | null = null;
void target.then((t) => {
  current = t;
  document.documentElement.dataset.engine = t.where;
});
// Removed or unloaded: the offscreen engine ends this frame's worker (synchronously: no later task runs).
window.addEventListener('pagehide', () => current?.end());

window.addEventListener('message', (e) => {
  const port = e.ports[0];
  if (e.data?.t !== ENGINE_CONNECT || !port) return;
  if (secret.length < 32 || e.data.secret !== secret) {
    port.close();
    return;
  }
  void target.then((t) => t.session(port));
});

// Fault injection for the end-to-end and soak tests: a script evaluated in this extension page
// itself (never the embedding page: `source` must be this window) makes the engine's GPU go
// away, as a driver reset would. The answer lands in data-lost-gpu.
// 'brushcam:memory' asks the worker for its live tensor count (data-num-tensors), for the soak,
// and its WASM threads (data-wasm-threads, data-isolated, data-thread-ms).
// 'brushcam:network-probe' makes the worker fetch a URL and writes what happened to
// data-network-probe (the privacy test: the worker's network guard refuses foreign URLs).
window.addEventListener('message', (e) => {
  if (e.source !== window) return;
  const hook = (msg: unknown): void => void target.then((t) => t.hook(msg));
  if (e.data?.t === 'brushcam:lose-gpu') hook({ t: 'lose-gpu' });
  else if (e.data?.t === 'brushcam:memory') hook({ t: 'memory' });
  else if (e.data?.t === 'brushcam:network-probe' && typeof e.data.url === 'string') hook({ t: 'network-probe', url: e.data.url });
});
function answer(data: unknown): void {
  const d = data as { t?: string; lost?: string | null; numTensors?: number; threads?: number; isolated?: boolean; threadMs?: Record<string, number> | null; result?: string } | null;
  if (d?.t === 'lose-gpu') document.documentElement.dataset.lostGpu = String(d.lost);
  else if (d?.t === 'network-probe') document.documentElement.dataset.networkProbe = String(d.result);
  else if (d?.t === 'memory') {
    const data = document.documentElement.dataset;
    data.numTensors = String(d.numTensors);
    // how many threads the worker's WASM backend runs, and whether it could run more than one
    data.wasmThreads = String(d.threads);
    data.isolated = String(d.isolated);
    // the probe frame's ms at each thread count tried when the engine chose its threads
    data.threadMs = JSON.stringify(d.threadMs ?? null);
  }
}
