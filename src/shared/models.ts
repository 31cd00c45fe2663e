/** models/manifest.json: every model the extension ships, for the popup's lists and the loaders. */
export interface ModelEntry {
  id: string;
  kind: 'style' | 'avatar' | 'detector';
  name: string;
  /** Folder under models/ holding model.json, or null for built-in filters. */
  folder: string | null;
  builtin?: boolean;
  inputResolution: [number, number] | null;
  gflopsAt640x360: number;
  /**
   * Cheaper networks of the same style, cheapest last, that the governor switches to once the
   * internal resolution is at its floor (styles only).
   */
  tiers?: { id: string; folder: string; gflopsAt640x360: number | null }[];
  dataLicence: string;
  provenance: string;
}

export interface ModelsManifest {
  version: 1;
  models: ModelEntry[];
}

export function parseModelsManifest(raw: unknown, source = 'models/manifest.json'): ModelsManifest {
  const fail = (why: string): never => {
    throw new Error(`${source}: ${why}`);
  };
  if (typeof raw !== 'object' || raw === null) fail('expected an object with "version" and "models"');
  const m = raw as Record<string, unknown>;
  if (m.version !== 1) fail(`expected "version": 1, got ${JSON.stringify(m.version)}`);
  if (!Array.isArray(m.models)) fail('expected "models" to be an array');
  const seen = new Set<string>();
  for (const [i, e] of (m.models as unknown[]).entries()) {
    const x = e as Record<string, unknown>;
    if (typeof x?.id !== 'string' || !/^[a-z0-9][a-z0-9_-]*$/.test(x.id)) fail(`models[${i}].id must be a lowercase id`);
    if (seen.has(x.id as string)) fail(`duplicate model id '${String(x.id)}'`);
    seen.add(x.id as string);
    if (!['style', 'avatar', 'detector'].includes(x.kind as string)) fail(`models[${i}].kind must be style, avatar or detector`);
    if (typeof x.name !== 'string') fail(`models[${i}].name must be a string`);
    if (x.folder !== null && typeof x.folder !== 'string') fail(`models[${i}].folder must be a string or null`);
    if (x.tiers !== undefined) {
      if (!Array.isArray(x.tiers)) fail(`models[${i}].tiers must be an array`);
      for (const [j, t] of (x.tiers as unknown[]).entries()) {
        const y = t as Record<string, unknown>;
        if (typeof y?.id !== 'string' || !/^[a-z0-9][a-z0-9_-]*$/.test(y.id)) fail(`models[${i}].tiers[${j}].id must be a lowercase id`);
        if (typeof y.folder !== 'string') fail(`models[${i}].tiers[${j}].folder must be a string`);
      }
    }
  }
  return m as unknown as ModelsManifest;
}
