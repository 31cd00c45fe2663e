import type { FilterSpec } from '../../shared/settings';
import { FilterError, type Filter, type FilterEnv } from './filter';
import { PosterizeFilter } from './posterize';
import { RemoteFilter } from './remote';

/** Filters that need no model file. Neural filters register beside them. */
const BUILTIN_STYLES: Record<string, (spec: FilterSpec) => Promise<Filter>> = {
  // Asked to run on the CPU ('wasm'), it reads every frame back and quantises it in JS.
  posterize: (spec) => {
    const backend = 'backend' in spec ? spec.backend : undefined;
    // "auto": a software WebGL is slower than Canvas 2D; an explicit "webgl" gets WebGL anyway
    return PosterizeFilter.create({ levels: 4, preferCpu: backend === 'wasm', acceptSoftwareGl: backend === 'webgl' || backend === 'webgpu' });
  },
};

/**
 * Makes the filter for a spec. Throws a FilterError naming what was asked for and what
 * exists when the spec cannot be served.
 */
export async function createFilter(spec: FilterSpec, env: FilterEnv): Promise<Filter> {
  if (spec.kind === 'off') throw new FilterError('createFilter: "off" is handled by the pump, not a filter');
  const builtin = spec.kind === 'style' ? BUILTIN_STYLES[spec.id] : undefined;
  if (builtin) return builtin(spec);
  // Everything else is a neural filter, served by the extension's engine.
  if (!env.openEngine) {
    throw new FilterError(`${spec.kind === 'style' ? 'style' : 'avatar'} model '${spec.id}' needs the filter engine, which is not available here; built in: ${Object.keys(BUILTIN_STYLES).join(', ')}`);
  }
  try {
    return await RemoteFilter.create(await env.openEngine(), spec);
  } catch (e) {
    // Engine errors ("the frame did not load", ...) must still say which model was asked for.
    const msg = e instanceof Error ? e.message : String(e);
    throw new FilterError(msg.includes(`'${spec.id}'`) ? msg : `${spec.kind === 'style' ? 'style' : 'avatar'} model '${spec.id}': ${msg}`);
  }
}
