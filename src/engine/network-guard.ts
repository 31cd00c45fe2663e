/**
 * The engine's own network door, shut: in the extension contexts that run libraries (the engine
 * page and its worker), every way to make a request is replaced by one that refuses anything
 * outside the extension's own files. The extension's CSP (`connect-src 'self'`) refuses the same
 * requests in the browser; this guard refuses them before they reach it, names them, and covers
 * what a CSP does not (a library that builds a URL from parts, an `importScripts` of a foreign
 * script where `script-src` would be relaxed by mistake).
 *
 * Allowed: URLs under the context's own root (`chrome-extension://<id>/`, `moz-extension://<uuid>/`),
 * `blob:` URLs of that origin and `data:` URLs (neither leaves the browser).
 */

/** The parts of a worker or window global the guard replaces. */
export interface GuardedScope {
  location: { href: string };
  fetch?: typeof fetch;
  XMLHttpRequest?: typeof XMLHttpRequest;
  importScripts?: (...urls: string[]) => void;
  WebSocket?: unknown;
  EventSource?: unknown;
  WebTransport?: unknown;
  navigator?: { sendBeacon?: (url: string | URL, data?: unknown) => boolean };
}

export class NetworkRefused extends Error {
  constructor(readonly url: string, how: string) {
    super(`Brushcam refuses network requests: ${how} ${url} is outside the extension`);
    this.name = 'NetworkRefused';
  }
}

/** Whether `url` (resolved against `base`) stays inside the extension root `root`. */
export function isOwnUrl(url: string, root: string, base: string = root): boolean {
  let href: string;
  try {
    href = new URL(url, base).href;
  } catch {
    return false;
  }
  return href.startsWith(root) || href.startsWith(`blob:${root}`) || href.startsWith('data:');
}

function urlOf(input: unknown): string {
  if (typeof input === 'string') return input;
  if (input && typeof input === 'object') {
    const u = (input as { url?: unknown; href?: unknown }).url ?? (input as { href?: unknown }).href;
    if (typeof u === 'string') return u;
  }
  return String(input);
}

/**
 * Replaces fetch, XMLHttpRequest.open, importScripts, sendBeacon, WebSocket, EventSource and
 * WebTransport on `scope`. Every refusal is also reported to `onRefused` (default: console.error),
 * so a refused request is never silent. Returns the list of refused URLs (for tests).
 */
export function guardNetwork(scope: GuardedScope, onRefused: (e: NetworkRefused) => void = (e) => console.error(e.message)): string[] {
  const root = new URL('/', scope.location.href).href;
  const refused: string[] = [];
  const refuse = (url: string, how: string): NetworkRefused => {
    const e = new NetworkRefused(url, how);
    refused.push(url);
    onRefused(e);
    return e;
  };
  const own = (url: string): boolean => isOwnUrl(url, root, scope.location.href);

  const nativeFetch = scope.fetch;
  if (nativeFetch) {
    scope.fetch = function fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
      const url = urlOf(input);
      if (!own(url)) return Promise.reject(refuse(url, 'fetch'));
      return nativeFetch.call(scope, input, init);
    } as typeof fetch;
  }
  const xhr = scope.XMLHttpRequest?.prototype;
  if (xhr) {
    const open = xhr.open as (this: XMLHttpRequest, ...a: unknown[]) => void;
    xhr.open = function (this: XMLHttpRequest, ...a: unknown[]): void {
      const url = urlOf(a[1]);
      if (!own(url)) throw refuse(url, 'XMLHttpRequest');
      open.apply(this, a);
    } as typeof xhr.open;
  }
  const importScripts = scope.importScripts;
  if (importScripts) {
    scope.importScripts = function (...urls: string[]): void {
      for (const u of urls) if (!own(urlOf(u))) throw refuse(urlOf(u), 'importScripts');
      importScripts.apply(scope, urls);
    };
  }
  const beacon = scope.navigator?.sendBeacon;
  if (beacon && scope.navigator) {
    const nav = scope.navigator;
    nav.sendBeacon = (url: string | URL, data?: unknown): boolean => {
      if (!own(urlOf(url))) throw refuse(urlOf(url), 'sendBeacon');
      return (beacon as (u: string | URL, d?: unknown) => boolean).call(nav, url, data);
    };
  }
  // Sockets and streams have no use inside the extension at all.
  for (const name of ['WebSocket', 'EventSource', 'WebTransport'] as const) {
    if (!scope[name]) continue;
    scope[name] = function (url: unknown): never {
      throw refuse(urlOf(url), name);
    };
  }
  return refused;
}
