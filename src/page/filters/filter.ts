import type { FilterSpec } from '../../shared/settings';

/**
 * One stage that turns a camera frame into an output frame.
 *
 * Ownership: `process` TAKES `frame`. It closes it exactly once, on every path (errors
 * included), and as early as it can: cameras have only a few buffers, and a frame held for
 * the whole of a slow filter stalls capture. The caller must not touch `frame` after the
 * call. The returned frame is NEW and owned by the caller, has the input's timestamp and
 * display size, and no alpha. When `process` rejects, it has returned nothing and leaked
 * nothing.
 */
export interface Filter {
  /** What runs it, for the popup: e.g. "webgl2", "canvas2d", "tfjs-wasm". */
  readonly backend: string;
  process(frame: VideoFrame): Promise<VideoFrame>;
  /**
   * How many frames it may hold at once (default 1). A filter whose work runs in another
   * thread takes 2: the next frame is on its way while the current one is painted.
   */
  readonly concurrency?: number;
  /** Time of the last processed frame inside an engine elsewhere (another worker), ms. */
  readonly engineMs?: number;
  /** How often the filter changed its internal resolution or model tier so far. */
  readonly levelChanges?: number;
  /** Frees GPU memory and models. The filter is unusable afterwards. */
  dispose(): void;
}

/** Where a filter may load its files from (the extension's own origin) and what it may use. */
export interface FilterEnv {
  /** Base URL of the extension's files, ending in '/', or null when unknown. */
  assetBase: string | null;
  /** Opens a session with the extension's filter engine (neural filters), when available. */
  openEngine?: () => Promise<MessagePort>;
}

export type FilterFactory = (spec: FilterSpec, env: FilterEnv) => Promise<Filter>;

export class FilterError extends Error {
  override name = 'FilterError';
}
