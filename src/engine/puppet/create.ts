/**
 * Builds the puppet painter for the engine worker: the tfjs backend the user chose, BlazeFace
 * (tasks-vision), the face mesh and iris models, all from the extension itself.
 */
import { FaceFinder } from '../avatar/face-detector';
import { backendLabel, exclusive, useBackend, type BackendName } from '../ml/backend';
import { SAVER_FPS, type FilterSpec } from '../../shared/settings';
import type { Painter } from '../session';
import { FaceMesh } from './face-mesh';
import { PuppetPainter } from './painter';
import { FaceTracker } from './tracker';

type PuppetSpec = Extract<FilterSpec, { kind: 'anime' }>;

/** `onOwnBackend`: runs tfjs work alone on the painter's backend (the worker's helper). */
export async function createPuppetPainter(
  spec: PuppetSpec,
  root: string,
  onOwnBackend: <T>(backend: BackendName, fn: () => Promise<T>) => Promise<T>,
): Promise<Painter> {
  const look = spec.puppet;
  if (spec.presentation !== 'puppet' || !look) throw new Error('puppet: expected a puppet filter with its character and colours');
  const backend = await exclusive(() => useBackend(spec.backend ?? 'auto', `${root}wasm/`));
  const mesh = await onOwnBackend(backend, () => FaceMesh.load(root));
  const finder = await FaceFinder.shipped(root, () => mesh.dispose());
  const p = new PuppetPainter(new FaceTracker(finder, mesh), {
    character: look.character,
    palette: { hair: look.hair, skin: look.skin, eyes: look.eyes },
    backdrop: spec.backdrop ?? { kind: 'scene', colour: '#6b8fb3' },
    ...(spec.saver ? { budgetMs: 1000 / SAVER_FPS } : {}),
  });
  const paint = (b: ImageBitmap): Promise<ImageBitmap> => onOwnBackend(backend, () => p.paint(b));
  try {
    // compile the models' kernels before the session reports ready
    const warm = await createImageBitmap(new ImageData(640, 360));
    try {
      (await paint(warm)).close();
    } finally {
      warm.close();
    }
  } catch (e) {
    p.dispose();
    throw e;
  }
  return {
    backend: backendLabel(backend, ` + ${finder.label}`), tfBackend: backend,
    side: () => p.lastSide,
    tier: () => p.tier,
    paint, dispose: () => p.dispose(),
  };
}
