/**
 * The engine worker's painters: a style (Stylizer), the anime avatar (AvatarPainter) or the
 * puppet (PuppetPainter, ./puppet/create.ts), each
 * on its own tfjs backend, loaded from the models the extension ships and warmed up before the
 * session reports ready. src/engine/worker.ts serves sessions with them.
 */
import { AvatarPainter, TRANSLATE_SIDES } from './avatar/avatar-painter';
import { createPuppetPainter } from './puppet/create';
import { Stylizer } from './stylizer';
import { FaceFinder } from './avatar/face-detector';
import { WorkerTranslator } from './avatar/translator';
import { backendLabel, exclusive, gpuLost, onBackend, setWasmThreadsNow, unlessGpuLost, useBackend, wasmThreads, type BackendName } from './ml/backend';
import { chooseThreads, type ThreadChoice } from './threads';
import type { Painter, PainterOptions } from './session';
import { PaintNet } from './ml/paint-net';
import { parseModelsManifest, type ModelsManifest } from '../shared/models';
import { SAVER_FPS, SAVER_MAX_SIDE, type FilterSpec } from '../shared/settings';

const root = new URL('./', self.location.href).href;
let manifest: Promise<ModelsManifest> | null = null;
const loadManifest = (): Promise<ModelsManifest> =>
  (manifest ??= fetch(`${root}models/manifest.json`).then((r) => r.json()).then((j) => parseModelsManifest(j)));


/** Runs tfjs work alone, on the painter's own backend (tfjs's backend is global to the worker). */
const onOwnBackend = <T>(backend: BackendName, fn: () => Promise<T>): Promise<T> =>
  exclusive(async () => {
    await onBackend(backend);
    return fn();
  });

/** Names `backend` when its GPU went away (for unlessGpuLost). */
const lostOf = (backend: BackendName) => (): string | null => (gpuLost(backend) ? backend : null);

/** Paints one blank frame so the backend compiles its kernels before the session reports ready. */
async function warmUp(paint: (b: ImageBitmap) => Promise<ImageBitmap>): Promise<void> {
  const warm = await createImageBitmap(new ImageData(640, 360));
  try {
    (await paint(warm)).close();
  } finally {
    warm.close();
  }
}

/**
 * The anime avatar: BlazeFace (tasks-vision, wasm from <root>mediapipe; tfjs without WebGL) → crop tracker → the
 * avatar model's human→anime op list → compositor. Fails (the pump then sends neutral frames)
 * when no trained avatar model ships.
 */
async function createAvatarPainter(spec: Extract<FilterSpec, { kind: 'anime' }>, o: PainterOptions): Promise<Painter> {
  if (spec.presentation === 'puppet') return createPuppetPainter(spec, root, onOwnBackend);
  const m = await loadManifest();
  const avatars = m.models.filter((x) => x.kind === 'avatar' && x.folder);
  const entry = avatars.find((x) => x.id === spec.id);
  if (!entry) {
    throw new Error(avatars.length
      ? `avatar model '${spec.id}' not found; known: ${avatars.map((x) => x.id).join(', ')}`
      : `avatar model '${spec.id}' is not trained yet: this build ships no avatar model (train and export it with training/brushcam_anime)`);
  }
  const backend = await exclusive(() => useBackend(spec.backend ?? 'auto', `${root}wasm/`));
  const model = await onOwnBackend(backend, () => PaintNet.load(`${root}models/${entry.folder}`));
  // The translator's cheaper tier, when the avatar ships one: it runs when the full translator
  // cannot follow every frame. A tier that does not load costs that choice, not the avatar.
  const t = entry.tiers?.[0];
  const tierModel = t ? await onOwnBackend(backend, () => PaintNet.load(`${root}models/${t.folder}`)).catch(() => null) : null;
  const finder = await FaceFinder.shipped(root, () => {
    model.dispose();
    tierModel?.dispose();
  });
  // On WASM the translator runs in a worker of its own, beside this one (pipelined, see
  // AvatarPainter): detection and compositing here, translation there, on two cores. A worker
  // that cannot start or load leaves translation here, as on a GPU backend.
  const translator = backend === 'wasm' && !tierModel && typeof Worker === 'function'
    ? await WorkerTranslator.create(`${root}translator-worker.js`, `${root}models/${entry.folder}`, `${root}wasm/`, TRANSLATE_SIDES[0]).catch((e: unknown) => {
      console.warn(`brushcam: the avatar translates in the engine worker (${e instanceof Error ? e.message : String(e)})`);
      return null;
    })
    : null;
  const p = new AvatarPainter(model, finder, spec.presentation, {
    ...(spec.backdrop ? { backdrop: spec.backdrop } : {}),
    ...(t && tierModel ? { tier: { name: t.id, model: tierModel } } : {}),
    ...(translator ? { translator } : {}),
    paste: o.paste === true,
  });
  const paint = (b: ImageBitmap): Promise<ImageBitmap> => onOwnBackend(backend, () => p.paint(b));
  try {
    await unlessGpuLost(warmUp(paint), 'warming up', () => {}, lostOf(backend));
    await unlessGpuLost(onOwnBackend(backend, () => p.timeTranslators()), 'warming up', () => {}, lostOf(backend));
  } catch (e) {
    p.dispose();
    throw e;
  }
  return {
    // the detector: tasks-vision ('mediapipe') where there is WebGL, else BlazeFace on tfjs
    get backend() {
      return `${backendLabel(backend, ` + ${finder.label}`)}${p.pipelinedNow ? ', translator in its own worker' : ''}`;
    },
    tfBackend: backend, side: () => p.cropSide,
    // the avatar's governor state for the popup: detector and translator strides and, when
    // lowered, the translator's side ("det2-tr5", "det2-tr6-s96")
    tier: () => p.tier,
    place: () => p.place,
    paint, dispose: () => p.dispose(),
  };
}

/** This worker's WASM thread count, chosen by timing at the first style (see chooseThreads). */
let threadChoice: Promise<ThreadChoice> | null = null;

/** The probe frame's ms at each thread count tried, once this worker has chosen (else null). */
export const threadChoiceMs = (): Promise<Record<number, number> | null> =>
  (threadChoice ?? Promise.resolve(null)).then((c) => c?.ms ?? null, () => null);

export async function createPainter(spec: FilterSpec, o: PainterOptions = {}): Promise<Painter> {
  if (spec.kind === 'anime') return createAvatarPainter(spec, o);
  if (spec.kind !== 'style') throw new Error(`the engine has no '${spec.kind}' filter in this build`);
  const m = await loadManifest();
  const styles = m.models.filter((x) => x.kind === 'style' && x.folder);
  const entry = styles.find((x) => x.id === spec.id);
  if (!entry) throw new Error(`style model '${spec.id}' not found; known: ${m.models.filter((x) => x.kind === 'style').map((x) => x.id).join(', ')}`);
  const backend = await exclusive(() => useBackend(spec.backend ?? 'auto', `${root}wasm/`));
  const model = await onOwnBackend(backend, () => PaintNet.load(`${root}models/${entry.folder}`));
  // The cheaper tier the governor ends with, when the style ships one. A tier that does not load
  // costs the ladder its last step, not the style.
  const t = entry.tiers?.[0];
  const tierModel = t ? await onOwnBackend(backend, () => PaintNet.load(`${root}models/${t.folder}`)).catch(() => null) : null;
  // Battery saver: a 15-fps budget and at most 320 px inside. Stability: motion-compensated blend.
  const s = new Stylizer(model, {
    ...(spec.saver ? { budgetMs: Math.max(1000 / SAVER_FPS, o.budgetMs ?? 0), maxSide: SAVER_MAX_SIDE } : o.budgetMs ? { budgetMs: o.budgetMs } : {}),
    stability: spec.stable === true,
    ...(t && tierModel ? { tier: { name: t.id, model: tierModel } } : {}),
  });
  try {
    // Where the WASM backend runs threads (Chromium's offscreen engine): keep them only if they
    // paint this style's frame faster now. Once per worker (each choice parks a thread pool).
    if (backend === 'wasm' && wasmThreads() > 1 && !threadChoice) {
      threadChoice = onOwnBackend(backend, () => chooseThreads(() => s.probeMs(), setWasmThreadsNow, wasmThreads()));
      await threadChoice;
    }
    // Compile the backend's kernels and pick the starting resolution now, while the page
    // still shows the previous output. A GPU lost meanwhile must not leave the model's
    // weights stranded in a hung warm-up.
    await unlessGpuLost(onOwnBackend(backend, () => s.warmUp()), 'warming up', () => {}, lostOf(backend));
  } catch (e) {
    s.dispose();
    throw e;
  }
  return {
    backend: backendLabel(backend),
    tfBackend: backend,
    // The page sends pictures at the internal size and upsamples the painting itself, guided by
    // the camera's luminance (src/page/filters/guided.ts).
    inputMultiple: model.inputMultiple,
    side: () => s.level.side,
    tier: () => s.level.tier,
    strokes: () => (s.level.tier && tierModel ? tierModel : model).drawsOutputScale,
    paint: (b) => onOwnBackend(backend, () => s.paint(b)),
    dispose: () => s.dispose(),
  };
}
