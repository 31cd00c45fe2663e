import type { PumpStatus } from '../frames/pump';
import type { FilterSpec } from '../settings';

/** Page → filter worker. */
export type ToWorker =
  | { type: 'start'; readable: ReadableStream<VideoFrame>; writable: WritableStream<VideoFrame>; assetBase: string | null; filter: FilterSpec | null }
  | { type: 'filter'; filter: FilterSpec }
  | { type: 'preview'; everyMs: number }
  | { type: 'stop' };

/** Filter worker → page. */
export type FromWorker =
  | { type: 'ready' }
  | { type: 'status'; status: PumpStatus }
  | { type: 'preview'; bitmap: ImageBitmap }
  | { type: 'stopped' };
