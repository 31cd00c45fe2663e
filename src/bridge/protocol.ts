import { parseFilterSpec, type FilterSpec } from '../settings';
import type { PipelineStatus } from '../pipeline/pipeline';

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
  | { ns: 'brushcam'; t: 'preview'; everyMs: number };

/** MAIN world → isolated world. */
export type ToIsolated =
  | { ns: 'brushcam'; t: 'status'; pipelines: PipelineStatus[]; cameras: CameraState[]; chained: boolean }
  | { ns: 'brushcam'; t: 'preview'; bitmap: ImageBitmap };

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

export function parseToMain(v: unknown): ToMain | null {
  if (!isObj(v) || v.ns !== 'brushcam') return null;
  if (v.t === 'config') {
    const filter = parseFilterSpec(v.filter);
    if (!filter || typeof v.assetBase !== 'string' || !/^(chrome|moz)-extension:\/\/[^/]+\/$/.test(v.assetBase)) return null;
    return { ns: 'brushcam', t: 'config', filter, assetBase: v.assetBase };
  }
  if (v.t === 'preview' && typeof v.everyMs === 'number' && v.everyMs >= 0 && v.everyMs <= 60_000) {
    return { ns: 'brushcam', t: 'preview', everyMs: v.everyMs };
  }
  return null;
}

export function parseToIsolated(v: unknown): ToIsolated | null {
  if (!isObj(v) || v.ns !== 'brushcam') return null;
  if (v.t === 'status' && Array.isArray(v.pipelines) && Array.isArray(v.cameras) && typeof v.chained === 'boolean') return v as ToIsolated;
  if (v.t === 'preview' && v.bitmap instanceof ImageBitmap) return v as ToIsolated;
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
