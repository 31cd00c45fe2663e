import { own } from './own';
import type { BackendPreference, FilterSpec } from './settings';
import type { PipelineStatus } from '../page/pipeline';

/**
 * The private channel between the isolated content script and the page's MAIN world.
 * It is a MessagePort handed over synchronously at document_start, before any page script
 * exists, so pages can neither read nor forge these messages. Every message is still
 * validated on arrival.
 */
export const HELLO_FROM_MAIN = 'brushcam:hello-from-main';
export const HELLO_FROM_ISOLATED = 'brushcam:hello-from-isolated';

/** Isolated world → MAIN world. */
export type ToMain =
  | { ns: 'brushcam'; t: 'config'; filter: FilterSpec; assetBase: string }
  | { ns: 'brushcam'; t: 'preview'; everyMs: number }
  /** A session with the engine, asked for by 'engine?'; the port travels in the event's ports. */
  | { ns: 'brushcam'; t: 'engine'; id: number; error: string | null };

/** MAIN world → isolated world. */
export type ToIsolated =
  | { ns: 'brushcam'; t: 'status'; pipelines: PipelineStatus[]; cameras: CameraState[]; chained: boolean }
  | { ns: 'brushcam'; t: 'preview'; bitmap: ImageBitmap }
  /** Asks the isolated world to open a session with the engine (only it knows the engine's secret). */
  | { ns: 'brushcam'; t: 'engine?'; id: number };

/** A camera track Brushcam wrapped in this frame: 'ended' once the device is released. */
export interface CameraState {
  label: string;
  state: MediaStreamTrackState;
  /** Processed tracks (clones included) the page still holds. */
  outputs: number;
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

// parseToMain runs in the page's MAIN world, whose built-ins the page can replace: it reads only
// own properties (never a getter a page put on Object.prototype), and validates with typeof, ===,
// string indexing and comparison, which no page script can change (no RegExp, includes, startsWith).

function isIdChar(c: string, first: boolean): boolean {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (!first && (c === '_' || c === '-'));
}
/** The settings' id rule (^[a-z0-9][a-z0-9_-]{0,63}$) without RegExp. */
function isId(v: unknown): v is string {
  if (typeof v !== 'string' || v.length < 1 || v.length > 64) return false;
  for (let i = 0; i < v.length; i++) if (!isIdChar(v[i]!, i === 0)) return false;
  return true;
}
function hasPrefix(s: string, p: string): boolean {
  if (s.length < p.length) return false;
  for (let i = 0; i < p.length; i++) if (s[i] !== p[i]) return false;
  return true;
}
/** `chrome-extension://<id>/` or `moz-extension://<uuid>/`, nothing after the root. */
function isExtensionRoot(v: unknown): v is string {
  if (typeof v !== 'string' || v.length > 200) return false;
  const p = hasPrefix(v, 'chrome-extension://') ? 19 : hasPrefix(v, 'moz-extension://') ? 16 : -1;
  if (p < 0 || v.length < p + 2 || v[v.length - 1] !== '/') return false;
  for (let i = p; i < v.length - 1; i++) if (v[i] === '/' || v[i] === '\\' || v[i] === '?' || v[i] === '#' || v[i] === '@' || v[i] === ':') return false;
  return true;
}
const isBackend = (b: unknown): b is BackendPreference => b === 'auto' || b === 'webgpu' || b === 'webgl' || b === 'wasm';

/** parseFilterSpec's rules (src/shared/settings.ts), own properties and page-proof operations only. */
function parseFilterOwn(raw: unknown): FilterSpec | null {
  const kind = own(raw, 'kind');
  if (kind === 'off') return { kind: 'off' };
  const b0 = own(raw, 'backend');
  const backend = b0 === undefined ? 'auto' : b0;
  if (!isBackend(backend)) return null;
  const saver = own(raw, 'saver');
  if (saver !== undefined && saver !== true) return null;
  const stable = own(raw, 'stable');
  if (stable !== undefined && (stable !== true || kind !== 'style')) return null;
  const id = own(raw, 'id');
  if (!isId(id)) return null;
  if (kind === 'style') {
    const spec: FilterSpec = { kind: 'style', id, backend };
    if (saver === true) spec.saver = true;
    if (stable === true) spec.stable = true;
    return spec;
  }
  const presentation = own(raw, 'presentation');
  if (kind === 'anime' && (presentation === 'face-swap' || presentation === 'full-avatar')) {
    const spec: FilterSpec = { kind: 'anime', id, presentation, backend };
    if (saver === true) spec.saver = true;
    return spec;
  }
  return null;
}

export function parseToMain(v: unknown): ToMain | null {
  if (own(v, 'ns') !== 'brushcam') return null;
  const t = own(v, 't');
  if (t === 'config') {
    const filter = parseFilterOwn(own(v, 'filter'));
    const assetBase = own(v, 'assetBase');
    if (!filter || !isExtensionRoot(assetBase)) return null;
    return { ns: 'brushcam', t: 'config', filter, assetBase };
  }
  if (t === 'engine') {
    const id = own(v, 'id');
    const error = own(v, 'error');
    if (typeof id !== 'number' || (error !== null && typeof error !== 'string')) return null;
    return { ns: 'brushcam', t: 'engine', id, error };
  }
  const everyMs = own(v, 'everyMs');
  if (t === 'preview' && typeof everyMs === 'number' && everyMs >= 0 && everyMs <= 60_000) {
    return { ns: 'brushcam', t: 'preview', everyMs };
  }
  return null;
}

export function parseToIsolated(v: unknown): ToIsolated | null {
  if (!isObj(v) || v.ns !== 'brushcam') return null;
  if (v.t === 'status' && Array.isArray(v.pipelines) && Array.isArray(v.cameras) && typeof v.chained === 'boolean') return v as ToIsolated;
  if (v.t === 'preview' && v.bitmap instanceof ImageBitmap) return v as ToIsolated;
  if (v.t === 'engine?' && typeof v.id === 'number') return { ns: 'brushcam', t: 'engine?', id: v.id };
  return null;
}

/**
 * Connects the two worlds. Both scripts run at document_start; whichever runs second
 * dispatches a cancelable event carrying a port, and the first (already listening) accepts
 * it by cancelling the event. The listener is removed after the first accepted hello.
 */
export function connect(side: 'main' | 'isolated', onPort: (p: MessagePort) => void, doc: Document = document): void {
  const mine = side === 'main' ? HELLO_FROM_MAIN : HELLO_FROM_ISOLATED;
  const theirs = side === 'main' ? HELLO_FROM_ISOLATED : HELLO_FROM_MAIN;
  const channel = new MessageChannel();
  const accepted = !doc.dispatchEvent(new MessageEvent(mine, { ports: [channel.port2], cancelable: true }));
  if (accepted) {
    onPort(channel.port1);
    return;
  }
  channel.port1.close();
  const listener = (e: Event): void => {
    const port = (e as MessageEvent).ports?.[0];
    if (!port) return;
    e.preventDefault();
    e.stopImmediatePropagation();
    doc.removeEventListener(theirs, listener, true);
    onPort(port);
  };
  doc.addEventListener(theirs, listener, true);
}
