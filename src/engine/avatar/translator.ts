/**
 * The avatar's translator in a worker of its own: the engine sends it an aligned n×n crop and
 * goes on with the next frames (detection, face lock, compositing) while it translates, so on a
 * machine with two cores translation and everything else run side by side instead of one after
 * the other (src/engine/avatar/avatar-painter.ts, pipelined mode). The worker is
 * src/engine/avatar/translator-worker.ts; the protocol is below.
 */

/** Engine → translator worker. */
export type ToTranslator =
  | { t: 'load'; model: string; wasm: string; n: number }
  | { t: 'run'; id: number; n: number; pixels: ArrayBuffer };

/** Translator worker → engine. */
export type FromTranslator =
  | { t: 'ready'; backend: string }
  | { t: 'out'; id: number; pixels: ArrayBuffer }
  | { t: 'error'; id?: number; message: string };

/** Translates aligned square RGBA crops, one call at a time or several queued. */
export interface Translator {
  /** What runs it, for the popup. */
  readonly label: string;
  /** The n×n RGBA avatar of the n×n RGBA `crop` (`crop` is not kept). */
  run(crop: ImageData): Promise<Uint8ClampedArray<ArrayBuffer>>;
  dispose(): void;
}

/**
 * The translator worker's WASM threads on a machine with `cores` logical cores: every core but the
 * engine worker's, at most three (a 2-core laptop: one; live on this project's 2-core machine one
 * and two threads gave the same translator stride, bench/results/2026-12-06-vm-bench-anime-pipelined*).
 */
export function translatorThreads(cores: number | undefined): number {
  return Number.isFinite(cores) && cores! > 2 ? Math.min(3, Math.floor(cores!) - 1) : 1;
}

/** How long the worker may take to load the model and warm up before the engine gives up on it. */
export const TRANSLATOR_LOAD_MS = 30_000;
/** How long one translation may take before the worker is taken for hung. */
export const TRANSLATOR_RUN_MS = 5_000;

/**
 * The translator in a dedicated worker (`url`: its script, `model`: the model folder's URL,
 * `wasm`: the folder of tfjs's .wasm files, `n`: the crops' side, warmed up at load). Rejects with the worker's own reason when the model
 * cannot be loaded, or after `loadMs` without an answer. Once the worker fails (a crash, a hung
 * translation, an error) every pending and later `run` rejects: the painter fails closed and
 * translates in the engine from then on.
 */
export class WorkerTranslator implements Translator {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (p: Uint8ClampedArray<ArrayBuffer>) => void; reject: (e: Error) => void; n: number; timer: ReturnType<typeof setTimeout> }>();
  private failure: Error | null = null;

  private constructor(private readonly worker: Worker, readonly label: string) {
    worker.onmessage = (e: MessageEvent<FromTranslator>) => this.onMessage(e.data);
    worker.onerror = (e: ErrorEvent) => {
      e.preventDefault?.();
      this.fail(new Error(`the translator worker failed: ${e.message || 'script error'}`));
    };
  }

  static create(url: string, model: string, wasm: string, n: number, o: { loadMs?: number; runMs?: number } = {}): Promise<WorkerTranslator> {
    let worker: Worker;
    try {
      worker = new Worker(url, { name: 'brushcam-translator' });
    } catch (e) {
      return Promise.reject(new Error(`the translator worker could not start: ${e instanceof Error ? e.message : String(e)}`));
    }
    const loadMs = o.loadMs ?? TRANSLATOR_LOAD_MS;
    return new Promise<WorkerTranslator>((resolve, reject) => {
      const give = (why: string): void => {
        clearTimeout(timer);
        worker.terminate();
        reject(new Error(why));
      };
      const timer = setTimeout(() => give(`the translator worker did not load ${model} within ${loadMs / 1000} s`), loadMs);
      worker.onerror = (e: ErrorEvent) => {
        e.preventDefault?.();
        give(`the translator worker failed while loading: ${e.message || 'script error'}`);
      };
      worker.onmessage = (e: MessageEvent<FromTranslator>) => {
        const m = e.data;
        if (m?.t === 'ready') {
          clearTimeout(timer);
          const t = new WorkerTranslator(worker, `translator: ${m.backend}, own worker`);
          t.runMs = o.runMs ?? TRANSLATOR_RUN_MS;
          resolve(t);
        } else give(m?.t === 'error' ? m.message : 'unexpected reply from the translator worker');
      };
      worker.postMessage({ t: 'load', model, wasm, n } satisfies ToTranslator);
    });
  }

  private runMs = TRANSLATOR_RUN_MS;

  /** Whether the worker failed (every run rejects). */
  get failed(): boolean {
    return this.failure !== null;
  }

  run(crop: ImageData): Promise<Uint8ClampedArray<ArrayBuffer>> {
    if (this.failure) return Promise.reject(this.failure);
    const n = crop.width;
    if (crop.height !== n) return Promise.reject(new Error(`the translator expects a square crop, got ${crop.width}×${crop.height}`));
    const id = this.nextId++;
    // a copy: the crop's own buffer stays with the painter (it is the smoother's source)
    const pixels = crop.data.slice().buffer;
    return new Promise<Uint8ClampedArray<ArrayBuffer>>((resolve, reject) => {
      const timer = setTimeout(() => this.fail(new Error(`the translator worker did not answer within ${this.runMs} ms`)), this.runMs);
      this.waiting.set(id, { resolve, reject, n, timer });
      this.worker.postMessage({ t: 'run', id, n, pixels } satisfies ToTranslator, [pixels]);
    });
  }

  private onMessage(m: FromTranslator): void {
    if (m?.t === 'out') {
      const w = this.waiting.get(m.id);
      if (!w) return;
      this.waiting.delete(m.id);
      clearTimeout(w.timer);
      if (m.pixels.byteLength !== w.n * w.n * 4) {
        this.fail(new Error(`the translator worker answered ${m.pixels.byteLength} bytes for a ${w.n}×${w.n} crop`));
        w.reject(this.failure!);
        return;
      }
      w.resolve(new Uint8ClampedArray(m.pixels));
    } else if (m?.t === 'error') {
      this.fail(new Error(`the translator worker failed: ${m.message}`));
    }
  }

  /** Every pending and later run rejects with `e`; the worker ends. */
  private fail(e: Error): void {
    this.failure ??= e;
    for (const w of this.waiting.values()) {
      clearTimeout(w.timer);
      w.reject(this.failure);
    }
    this.waiting.clear();
    this.worker.terminate();
  }

  dispose(): void {
    this.fail(new Error('the translator was disposed'));
  }
}
