/**
 * engine.html: the hidden extension frame a page's pipeline talks to for neural filters. It
 * starts the engine worker and hands it each session port it receives.
 */
import './install-network-guard'; // first: before any library module runs
import { ENGINE_CONNECT } from '../shared/engine-protocol';

// The secret the content script that made this frame put in its address (see EngineHost): only
// sessions that bring it are served, so a page that frames the engine itself cannot use it.
const secret = location.hash.slice(1);
history.replaceState(null, '', location.pathname);
const worker = new Worker('engine-worker.js', { name: 'brushcam-engine' });
window.addEventListener('message', (e) => {
  const port = e.ports[0];
  if (e.data?.t !== ENGINE_CONNECT || !port) return;
  if (secret.length < 32 || e.data.secret !== secret) {
    port.close();
    return;
  }
  worker.postMessage({ t: 'session' }, [port]);
});

// Fault injection for the end-to-end and soak tests: a script evaluated in this extension page
// itself (never the embedding page: `source` must be this window) makes the engine's GPU go
// away, as a driver reset would. The answer lands in data-lost-gpu.
// 'brushcam:memory' asks the worker for its live tensor count (data-num-tensors), for the soak.
// 'brushcam:network-probe' makes the worker fetch a URL and writes what happened to
// data-network-probe (the privacy test: the worker's network guard refuses foreign URLs).
window.addEventListener('message', (e) => {
  if (e.source !== window) return;
  if (e.data?.t === 'brushcam:lose-gpu') worker.postMessage({ t: 'lose-gpu' });
  else if (e.data?.t === 'brushcam:memory') worker.postMessage({ t: 'memory' });
  else if (e.data?.t === 'brushcam:network-probe' && typeof e.data.url === 'string') worker.postMessage({ t: 'network-probe', url: e.data.url });
});
worker.addEventListener('message', (e: MessageEvent<{ t?: string; lost?: string | null; numTensors?: number; result?: string }>) => {
  if (e.data?.t === 'lose-gpu') document.documentElement.dataset.lostGpu = String(e.data.lost);
  else if (e.data?.t === 'network-probe') document.documentElement.dataset.networkProbe = String(e.data.result);
  else if (e.data?.t === 'memory') document.documentElement.dataset.numTensors = String(e.data.numTensors);
});
