import { ENGINE_ROUTE, type FromRoute, type ToRoute } from '../shared/engine-protocol';

/**
 * The offscreen document's side of Chromium's multi-threaded engine (see ENGINE_ROUTE): each
 * route port the service worker relays gets its own engine worker, which is cross-origin
 * isolated here and so runs the WASM backend's threads. Session ports go to the worker as they
 * would from the engine frame; the worker ends when the frame goes away (it says so on pagehide:
 * the page closed, the frame removed). A frame that dies without a pagehide (a crashed tab)
 * leaves its worker idle until the offscreen document closes.
 */
export function serveRoutes(scope: { root: string; newWorker: () => Worker; isolated: boolean }): void {
  const sw = navigator.serviceWorker;
  sw.addEventListener('message', (e: MessageEvent) => {
    // Only the extension's own service worker relays routes (pages cannot reach it at all).
    const from = e.source as ServiceWorker | null;
    if (!from || typeof from.scriptURL !== 'string' || !from.scriptURL.startsWith(scope.root)) return;
    const port = e.ports[0];
    if (e.data?.t !== ENGINE_ROUTE || !port) return;
    serveRoute(port, scope.newWorker(), scope.isolated);
  });
  sw.startMessages();
}

export function serveRoute(port: MessagePort, worker: Worker, isolated: boolean): void {
  const post = (m: FromRoute): void => port.postMessage(m);
  let ended = false;
  const end = (): void => {
    if (ended) return;
    ended = true;
    worker.terminate();
    port.close();
  };
  port.addEventListener('message', (e: MessageEvent<ToRoute>) => {
    if (e.data?.t === 'session' && e.ports[0]) worker.postMessage({ t: 'session' }, [e.ports[0]]);
    else if (e.data?.t === 'hook') worker.postMessage(e.data.msg);
    else if (e.data?.t === 'end') end();
  });
  // The frame's end went away without saying so (where the browser fires 'close' on ports).
  port.addEventListener('close', end);
  worker.addEventListener('message', (e: MessageEvent) => post({ t: 'hook', msg: e.data }));
  port.start();
  post({ t: 'route-ready', isolated });
}
