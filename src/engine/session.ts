import type { FromEngine, ToEngine } from '../shared/engine-protocol';
import { gpuLost, lostGpus, markBackendLost, newlyLostGpu, unlessGpuLost } from './ml/backend';
import { parseFilterSpec, type FilterSpec } from '../shared/settings';
import type { FacePlace } from '../shared/face-swap';

/** A loaded neural filter: paints one picture at a time on the tfjs backend it was built on. */
export interface Painter {
  /** What runs it, for the popup (`tfjs-webgl`, `tfjs-wasm + mediapipe`...). */
  backend: string;
  /** The tfjs backend its weights live on ('webgpu', 'webgl', 'wasm'). */
  tfBackend: string;
  /**
   * For painters that work below the frame's size (styles): what their internal size must be
   * a multiple of. The page may then send pictures already at the internal size.
   */
  inputMultiple?: number;
  /** Internal resolution (long side) it paints at now. */
  side(): number;
  /** The cheaper model tier it paints with now, or null for the full model. */
  tier?(): string | null;
  /** Whether the model it paints with now draws strokes at the output's scale (PaintNet.drawsOutputScale). */
  strokes?(): boolean;
  paint(b: ImageBitmap): Promise<ImageBitmap>;
  /**
   * Painters that answer a page pasting the avatar itself (PainterOptions.paste): where the last
   * painted bitmap (the feathered avatar) goes, null for nowhere (no face: the page blurs the
   * frame); undefined when the last bitmap was a whole frame.
   */
  place?(): FacePlace | null | undefined;
  dispose(): void;
}

/** What a session asks of a painter beside its filter. */
export interface PainterOptions {
  /** Engine time per frame the painter may take, ms (see ToEngine 'create'). */
  budgetMs?: number;
  /** Face swap: the page pastes the avatar into its frame itself (ToEngine 'create' `paste`). */
  paste?: boolean;
}

export type PainterFactory = (spec: FilterSpec, o?: PainterOptions) => Promise<Painter>;

/** The budget a page may ask for: a 240-fps frame to a 2-fps one. Anything else is ignored. */
export const parseBudgetMs = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) && v >= 4 && v <= 500 ? v : undefined;

export interface SessionOptions {
  /**
   * Replaces both loss checks (the painter's own backend; any GPU lost since a build began)
   * with one function naming a lost backend, or null. For tests.
   */
  lostBackend?: () => string | null;
  markLost?: (name: string) => void;
  /** How often a running paint checks for a lost device (ms). */
  lossPollMs?: number;
}

/**
 * One engine session on `port`: 'create' builds a painter, 'frame's are painted in order,
 * 'dispose' frees it. When the GPU under the painter is lost (WebGL context lost, WebGPU
 * device destroyed or lost), the session marks that backend lost and builds the painter again
 * on the next one (WebGPU → WebGL → WASM) before the next frame; the frames it cannot paint
 * meanwhile are answered with errors, so the page's pump holds its last good output and never
 * shows the camera.
 */
export function serveSession(port: MessagePort, createPainter: PainterFactory, o: SessionOptions = {}): void {
  let painter: Painter | null = null;
  /** The painter's own GPU went away. */
  const isLost = o.lostBackend ?? (() => (painter && gpuLost(painter.tfBackend) ? painter.tfBackend : null));
  const markLost = o.markLost ?? ((n: string) => markBackendLost(n as Parameters<typeof markBackendLost>[0]));
  let spec: FilterSpec | null = null;
  let options: PainterOptions = {};
  let queue: Promise<void> = Promise.resolve();
  let closed = false;
  const post = (m: FromEngine, transfer: Transferable[] = []): void => port.postMessage(m, transfer);

  /** Drops the painter of a lost backend and builds it again on the next one. */
  const failOver = async (lost: string): Promise<void> => {
    markLost(lost);
    try {
      painter?.dispose();
    } catch {
      /* its GPU objects went with the device */
    }
    painter = null;
    if (!spec || closed) return;
    try {
      painter = await build(spec);
    } catch (e) {
      throw new Error(`${lost} was lost and the filter could not be rebuilt: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
  };

  const paintUnlessLost = (p: Painter, b: ImageBitmap): Promise<ImageBitmap> =>
    o.lostBackend || p.tfBackend === 'webgl' || p.tfBackend === 'webgpu'
      ? unlessGpuLost(p.paint(b), 'painting', (late) => late.close(), isLost, o.lossPollMs ?? 100)
      : p.paint(b); // a WASM painter has no device to lose

  /** Builds the painter; a device lost while building moves it to the next backend (twice at most). */
  const build = async (sp: FilterSpec): Promise<Painter> => {
    for (let attempt = 0; ; attempt++) {
      // Whichever GPU the factory picks: any that goes away from now on stops the wait.
      const known = lostGpus();
      const lostSince = o.lostBackend ?? (() => newlyLostGpu(known));
      try {
        return await unlessGpuLost(createPainter(sp, options), 'loading the filter', (late) => late.dispose(), lostSince, o.lossPollMs ?? 100);
      } catch (e) {
        const lost = lostSince();
        if (!lost || attempt >= 2) throw e;
        markLost(lost);
      }
    }
  };

  port.onmessage = (e: MessageEvent<ToEngine>) => {
    const msg = e.data;
    if (msg?.t === 'create') {
      const parsed = parseFilterSpec(msg.spec);
      const budgetMs = parseBudgetMs(msg.budgetMs);
      queue = queue.then(async () => {
        options = { ...(budgetMs === undefined ? {} : { budgetMs }), ...(msg.paste === true ? { paste: true } : {}) };
        try {
          if (!parsed) throw new Error(`invalid filter ${JSON.stringify(msg.spec)}`);
          spec = parsed;
          painter = await build(parsed);
          if (closed) painter.dispose();
          else post({ t: 'ready', backend: painter.backend });
        } catch (err) {
          post({ t: 'error', message: err instanceof Error ? err.message : String(err) });
        }
      });
    } else if (msg?.t === 'frame') {
      queue = queue.then(async () => {
        const t0 = performance.now();
        try {
          const before = isLost();
          if (before) await failOver(before);
          if (!painter) throw new Error('no filter in this session');
          const side = painter.side();
          const tier = painter.tier?.() ?? null;
          const strokes = painter.strokes?.() === true;
          const out = await paintUnlessLost(painter, msg.bitmap);
          const during = isLost();
          if (during) {
            // Whatever a lost device handed back is not a picture of the frame.
            out.close();
            throw new Error(`${during} was lost while painting`);
          }
          const multiple = painter.inputMultiple;
          const place = painter.place?.();
          post({ t: 'out', id: msg.id, bitmap: out, ms: performance.now() - t0, side, backend: painter.backend, ...(multiple ? { multiple } : {}), ...(tier ? { tier } : {}), ...(strokes ? { strokes } : {}), ...(place !== undefined ? { paste: place } : {}) }, [out]);
        } catch (err) {
          let message = err instanceof Error ? err.message : String(err);
          const lost = isLost();
          if (lost) {
            try {
              await failOver(lost);
              message += `; rebuilt on ${painter ? (painter as Painter).backend : 'nothing'}`;
            } catch (e2) {
              message = e2 instanceof Error ? e2.message : String(e2);
            }
          }
          post({ t: 'error', id: msg.id, message });
        } finally {
          msg.bitmap.close();
        }
      });
    } else if (msg?.t === 'dispose') {
      closed = true;
      queue = queue.then(() => {
        try {
          painter?.dispose();
        } catch {
          /* a lost device */
        }
        painter = null;
        port.close();
      });
    }
  };
}
