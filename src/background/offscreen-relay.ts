import { ENGINE_ROUTE, OFFSCREEN_ENGINE_PAGE } from '../shared/engine-protocol';

/** The parts of the service worker's global scope the relay uses (no WebWorker lib here). */
export interface RelayScope {
  location: { origin: string };
  clients: { matchAll(o: { includeUncontrolled: boolean; type: 'window' }): Promise<readonly RelayClient[]> };
  addEventListener(type: 'message', fn: (e: RelayMessageEvent) => void): void;
}
interface RelayClient {
  url: string;
  postMessage(msg: unknown, transfer: Transferable[]): void;
}
interface RelayMessageEvent {
  data: unknown;
  ports: readonly MessagePort[];
  source: RelayClient | null | object;
  waitUntil(p: Promise<unknown>): void;
}

/**
 * The service worker's part in Chromium's multi-threaded engine (see ENGINE_ROUTE): an engine
 * frame posts a route port here; the offscreen document is made if it is not there yet, and the
 * port is handed on to it. Only the extension's own pages can post to its service worker; the
 * engine frame is the only one that posts routes, and it is checked by address.
 */
export function relayEngineRoutes(sw: RelayScope): void {
  const root = sw.location.origin + '/';
  const page = root + OFFSCREEN_ENGINE_PAGE;
  let making: Promise<void> | null = null;
  const ensureDocument = async (): Promise<void> => {
    const open = await chrome.runtime.getContexts({ contextTypes: [chrome.runtime.ContextType.OFFSCREEN_DOCUMENT] });
    if (open.some((c: chrome.runtime.ExtensionContext) => c.documentUrl?.startsWith(page))) return;
    await chrome.offscreen.createDocument({
      url: OFFSCREEN_ENGINE_PAGE,
      reasons: [chrome.offscreen.Reason.WORKERS],
      justification: 'Runs the camera filters\' neural networks on several threads (WebAssembly threads need a cross-origin isolated page).',
    });
  };
  sw.addEventListener('message', (e) => {
    const port = e.ports[0];
    const from = e.source && 'url' in e.source ? e.source : null;
    if ((e.data as { t?: string } | null)?.t !== ENGINE_ROUTE || !port || !from?.url.startsWith(`${root}engine.html`)) return;
    e.waitUntil((async () => {
      try {
        await (making ??= ensureDocument().finally(() => (making = null)));
        const all = await sw.clients.matchAll({ includeUncontrolled: true, type: 'window' });
        const offscreen = all.find((c) => c.url.startsWith(page));
        if (!offscreen) throw new Error('the offscreen engine document is not there');
        offscreen.postMessage({ t: ENGINE_ROUTE }, [port]);
      } catch {
        // The frame waits for an answer on the port and falls back to its own worker.
        port.close();
      }
    })());
  });
}
