import type { FacePlace } from './face-swap';
import type { FilterSpec } from './settings';

/**
 * Messages on one engine session port (page pump ↔ extension engine worker). The engine
 * runs neural filters in the extension's own origin, where WASM, workers and the model files
 * are always allowed whatever the page's CSP. Frames cross as ImageBitmaps (transferred).
 */
export type ToEngine =
  /**
   * `budgetMs`: engine time per frame the painter may take (a style's governor aims at it);
   * absent: one camera frame's share (the page waits for every frame). A page that paints the
   * frames in between itself (guided refresh, src/page/filters/remote.ts) gives more.
   */
  /**
   * `paste`: face swap only. The page pastes the avatar into its camera frame itself
   * (src/shared/face-swap.ts), so it sends a smaller copy of the frame and each answer is the
   * feathered avatar with where it goes (`paste` in 'out'), not a whole frame.
   */
  | { t: 'create'; spec: FilterSpec; budgetMs?: number; paste?: boolean }
  | { t: 'frame'; id: number; bitmap: ImageBitmap }
  | { t: 'dispose' };

export type FromEngine =
  | { t: 'ready'; backend: string }
  | { t: 'error'; message: string; id?: number }
  | {
      t: 'out';
      id: number;
      bitmap: ImageBitmap;
      ms: number;
      /** Internal resolution (long side) used. */
      side: number;
      /** The cheaper model tier that painted it ('tiny'), when the governor has switched to it. */
      tier?: string;
      /**
       * The model that painted it draws strokes at the output's scale (a tier taught there): the
       * page keeps the painting's own detail when it upsamples (src/page/filters/guided.ts).
       */
      strokes?: boolean;
      /** What painted it (changes when a lost GPU made the engine move to the next backend). */
      backend: string;
      /**
       * Set when the painter works on a smaller picture than the frame (the styles): what its
       * internal size must be a multiple of. The page then sends internalSize(W, H, side,
       * multiple) pictures and scales the answer back to the frame itself.
       */
      multiple?: number;
      /**
       * Face swap pasted by the page (ToEngine 'create' `paste`): where `bitmap`, the feathered
       * avatar, goes in the picture sent (its pixels); null: no face, the page sends the frame
       * blurred. Absent: `bitmap` is the whole output frame.
       */
      paste?: FacePlace | null;
    };

/** The engine frame (engine.html) accepts a session port with this message. */
export const ENGINE_CONNECT = 'brushcam:engine-connect';

/**
 * Chromium's multi-threaded engine. The engine frame in a page is not cross-origin isolated, so
 * its WASM runs on one thread; an offscreen document is (manifest COEP/COOP keys), and its workers
 * can run the WASM backend's threads. The frame posts a route port to the extension's service
 * worker with ENGINE_ROUTE; the service worker makes the offscreen document if needed and hands
 * the port on to it. Over the route: the frame sends each session port ({t:'session'}) and the
 * test hooks ({t:'hook'}); the offscreen document answers {t:'route-ready'} once, then the hook
 * answers. Each route has its own engine worker there, ended when the frame says {t:'end'} (its
 * pagehide) or its end of the route closes.
 */
export const ENGINE_ROUTE = 'brushcam:engine-route';
export const OFFSCREEN_ENGINE_PAGE = 'offscreen-engine.html';

export type ToRoute =
  | { t: 'session' }
  | { t: 'hook'; msg: unknown }
  /** The frame is going away (pagehide): the offscreen side ends this route's worker. */
  | { t: 'end' };

export type FromRoute =
  | { t: 'route-ready'; isolated: boolean }
  | { t: 'hook'; msg: unknown };
