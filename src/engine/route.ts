import { ENGINE_ROUTE, type FromRoute, type ToRoute } from '../shared/engine-protocol';

/**
 * Where the engine frame sends its sessions and test hooks: its own engine worker (one WASM
 * thread: the frame lives in a page and is not cross-origin isolated), or, in Chromium, a route
 * to an engine worker in the extension's offscreen document, which is isolated and runs the WASM
 * backend's threads (see ENGINE_ROUTE).
 */
export interface EngineTarget {
  /** 'offscreen' (multi-threaded) or 'frame' (this frame's own worker). */
  readonly where: 'offscreen' | 'frame';
  session(port: MessagePort): void;
  /** A test hook message for the engine worker; its answer comes to `onAnswer`. */
  hook(msg: unknown): void;
  /** This frame is going away: the offscreen engine worker can end (nothing for the frame's own). */
  end(): void;
}

/** This frame's own engine worker. */
export function frameTarget(newWorker: () => Worker, onAnswer: (msg: unknown) => void): EngineTarget {
  const worker = newWorker();
  worker.addEventListener('message', (e: MessageEvent) => onAnswer(e.data));
  return {
    where: 'frame',
    session: (port) => worker.postMessage({ t: 'session' }, [port]),
    hook: (msg) => worker.postMessage(msg),
    end: () => {},
  };
}

/** The offscreen engine over an open route port. `onClosed`: the offscreen end went away. */
export function routeTarget(route: MessagePort, onAnswer: (msg: unknown) => void, onClosed: () => void): EngineTarget {
  const send = (m: ToRoute, transfer: Transferable[] = []): void => route.postMessage(m, transfer);
  route.addEventListener('message', (e: MessageEvent<FromRoute>) => {
    if (e.data?.t === 'hook') onAnswer(e.data.msg);
  });
  route.addEventListener('close', onClosed, { once: true });
  return {
    where: 'offscreen',
    session: (port) => send({ t: 'session' }, [port]),
    hook: (msg) => send({ t: 'hook', msg }),
    end: () => send({ t: 'end' }),
  };
}

interface RouteEnv {
  /** The extension's manifest permissions (the offscreen engine needs 'offscreen'). */
  permissions: readonly string[];
  /** The extension's active service worker, or null. */
  serviceWorker: () => Promise<{ postMessage(msg: unknown, transfer: Transferable[]): void } | null>;
}

/**
 * Opens a route to the offscreen engine, or resolves null when there is none to be had (no
 * offscreen permission: Firefox; no service worker; the offscreen document is not isolated, so
 * it would run one thread like this frame; no answer within `timeoutMs`). Never rejects: the
 * frame's own worker is the fallback.
 */
export async function openRoute(env: RouteEnv, timeoutMs = 8000): Promise<MessagePort | null> {
  if (!env.permissions.includes('offscreen')) return null;
  const sw = await env.serviceWorker().catch(() => null);
  if (!sw) return null;
  const ch = new MessageChannel();
  return new Promise<MessagePort | null>((resolve) => {
    const done = (port: MessagePort | null): void => {
      clearTimeout(timer);
      ch.port1.removeEventListener('message', first);
      if (!port) ch.port1.close();
      resolve(port);
    };
    const timer = setTimeout(() => done(null), timeoutMs);
    const first = (e: MessageEvent<FromRoute>): void => {
      if (e.data?.t === 'route-ready') done(e.data.isolated ? ch.port1 : null);
    };
    ch.port1.addEventListener('message', first);
    ch.port1.start();
    try {
      sw.postMessage({ t: ENGINE_ROUTE }, [ch.port2]);
    } catch {
      done(null);
    }
  });
}

/** The route environment of an extension page (the engine frame). */
export function extensionRouteEnv(): RouteEnv {
  const c = (globalThis as { chrome?: typeof chrome }).chrome;
  return {
    permissions: c?.runtime?.getManifest?.().permissions ?? [],
    serviceWorker: async () => (await navigator.serviceWorker?.getRegistration())?.active ?? null,
  };
}
