/** Largest internal size the stylizer runs at by default (long side), before upscaling. */
export const DEFAULT_MAX_SIDE = 640;

/**
 * The internal size for an output size: long side ≤ maxSide (about), both multiples of
 * `multiple` (what the network's strides need), aspect kept as closely as that allows.
 * (No tfjs here: the page side uses it to send the engine pictures at the size it paints.)
 */
export function internalSize(w: number, h: number, maxSide = DEFAULT_MAX_SIDE, multiple = 4): [number, number] {
  const s = Math.min(1, maxSide / Math.max(w, h));
  const m = multiple;
  return [Math.max(m, Math.round((w * s) / m) * m), Math.max(m, Math.round((h * s) / m) * m)];
}
