/**
 * engine.html: the hidden extension frame a page's pipeline talks to for neural filters. It
 * starts the engine worker and hands it each session port it receives.
 */
import { ENGINE_CONNECT } from '../engine/protocol';

const worker = new Worker('engine-worker.js', { name: 'brushcam-engine' });
window.addEventListener('message', (e) => {
  const port = e.ports[0];
  if (e.data?.t !== ENGINE_CONNECT || !port) return;
  worker.postMessage({ t: 'session' }, [port]);
});
