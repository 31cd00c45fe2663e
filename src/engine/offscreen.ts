/**
 * offscreen-engine.html (Chromium): the extension's offscreen document. It is cross-origin
 * isolated (the manifest's COEP/COOP keys), so the engine workers it starts run the WASM
 * backend's threads. Engine frames reach it through the service worker (src/engine/route.ts).
 */
import './install-network-guard'; // first: before any library module runs
import { serveRoutes } from './offscreen-host';

serveRoutes({
  root: new URL('./', location.href).href,
  newWorker: () => new Worker('engine-worker.js', { name: 'brushcam-engine' }),
  isolated: globalThis.crossOriginIsolated === true,
});
