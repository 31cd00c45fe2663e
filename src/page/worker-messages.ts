import type { PumpStatus } from './frames/pump';
import type { FilterSpec } from '../shared/settings';

/** Page → filter worker. */
export type ToWorker =
  | { type: 'start'; readable: ReadableStream<VideoFrame>; writable: WritableStream<VideoFrame>; assetBase: string | null; filter: FilterSpec | null }
  | { type: 'filter'; filter: FilterSpec }
  | { type: 'preview'; everyMs: number }
  | { type: 'engine-port'; id: number; port: MessagePort | null; error: string | null }
  | { type: 'stop' };

/** Filter worker → page. */
export type FromWorker =
  | { type: 'ready' }
  | { type: 'status'; status: PumpStatus }
  | { type: 'preview'; bitmap: ImageBitmap }
  /** The worker asks the page for a session with the extension's filter engine. */
  | { type: 'engine-port?'; id: number }
  | { type: 'stopped' };
