/**
 * The puppet avatar's catalogue, shared by the settings, the popup and the engine: which
 * characters exist and their own colours. The drawing itself is src/engine/puppet/characters.ts.
 */
export const CHARACTERS = ['mika', 'kit'] as const;
export type CharacterId = (typeof CHARACTERS)[number];

export interface Palette {
  hair: string;
  skin: string;
  eyes: string;
}

/** Each character's own colours (the popup's reset). */
export const DEFAULT_PALETTES: Record<CharacterId, Palette> = {
  mika: { hair: '#3b2a4a', skin: '#f4d2bc', eyes: '#3f7fbf' },
  kit: { hair: '#d9772b', skin: '#f7e7d4', eyes: '#4e9a3a' },
};

export const CHARACTER_NAMES: Record<CharacterId, string> = { mika: 'Mika', kit: 'Kit (fox)' };

export const isCharacter = (v: unknown): v is CharacterId => v === 'mika' || v === 'kit';

const COLOUR = /^#[0-9a-f]{6}$/;

/** Throws, naming the part, unless every colour of `p` is '#rrggbb' (lower case). */
export function checkPalette(p: Palette): void {
  for (const k of ['hair', 'skin', 'eyes'] as const) {
    if (typeof p[k] !== 'string' || !COLOUR.test(p[k])) throw new Error(`puppet ${k} colour: expected '#rrggbb', got '${String(p[k])}'`);
  }
}
