import type { FilterSpec } from '../settings';
import { FilterError, type Filter, type FilterEnv } from './filter';
import { PosterizeFilter } from './posterize';

/** Filters that need no model file. Neural filters register beside them. */
const BUILTIN_STYLES: Record<string, () => Promise<Filter>> = {
  posterize: () => PosterizeFilter.create({ levels: 4 }),
};

/**
 * Makes the filter for a spec. Throws a FilterError naming what was asked for and what
 * exists when the spec cannot be served.
 */
export async function createFilter(spec: FilterSpec, _env: FilterEnv): Promise<Filter> {
  if (spec.kind === 'off') throw new FilterError('createFilter: "off" is handled by the pump, not a filter');
  if (spec.kind === 'style') {
    const make = BUILTIN_STYLES[spec.id];
    if (!make) {
      throw new FilterError(`style model '${spec.id}' not found; known: ${Object.keys(BUILTIN_STYLES).join(', ')}`);
    }
    return make();
  }
  throw new FilterError(`avatar model '${spec.id}' is not installed in this build`);
}
