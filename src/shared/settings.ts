/**
 * User settings: the single source of truth lives in `chrome.storage.local` under
 * {@link SETTINGS_KEY}; only extension pages (the popup) write it. Everything that reads
 * settings goes through {@link parseSettings}, which migrates older versions and replaces
 * anything malformed with defaults instead of throwing.
 */
import { own } from './own';
import { DEFAULT_PALETTES, isCharacter, type CharacterId } from './puppet';

export const SETTINGS_KEY = 'brushcam.settings';
export const SETTINGS_VERSION = 2;

export type Mode = 'off' | 'anime' | 'style';
/** Which tfjs backend runs neural filters; 'auto' tries WebGPU, then WebGL, then WASM. */
export type BackendPreference = 'auto' | 'webgpu' | 'webgl' | 'wasm';
export const BACKENDS: readonly BackendPreference[] = ['auto', 'webgpu', 'webgl', 'wasm'];
/** 'puppet': a drawn character moved by face tracking (no translator network, no camera pixel). */
export type AvatarPresentation = 'face-swap' | 'full-avatar' | 'puppet';
/** What the full avatar stands in front of. */
export type AvatarBackdrop = 'blur' | 'colour' | 'scene';

export interface Settings {
  version: typeof SETTINGS_VERSION;
  /** Master switch. Off means a pure passthrough everywhere. */
  enabled: boolean;
  mode: Mode;
  /**
   * Id of a `style` entry of models/manifest.json: a trained painting network, or the built-in
   * posterize shader (a diagnostic, offered under the popup's "Advanced").
   */
  style: string;
  /** Id of an `avatar` entry of models/manifest.json. */
  avatar: string;
  presentation: AvatarPresentation;
  /** The full avatar's backdrop: the blurred room, a flat colour, or a painted scene. */
  backdrop: AvatarBackdrop;
  /** '#rrggbb': the flat backdrop's colour, and the painted scene's tint. */
  backdropColour: string;
  /** The puppet's character and its colours ('#rrggbb'). */
  puppetCharacter: CharacterId;
  puppetHair: string;
  puppetSkin: string;
  puppetEyes: string;
  /** Sites (hostnames) where the user switched Brushcam off. */
  disabledSites: string[];
  /** Mirror the popup preview (never the outgoing video). */
  mirrorPreview: boolean;
  backend: BackendPreference;
  /** Battery saver: neural filters process at most 15 frames a second, at most 320 px inside. */
  batterySaver: boolean;
  /** Painting styles: blend with the previous output, motion-compensated, against shimmer. */
  stability: boolean;
}

/** The painting style a new user gets: a trained network of models/manifest.json (checked by a test). */
export const DEFAULT_STYLE = 'starry_night';
/** The built-in diagnostic filter (a shader, no network): never a default, never in the gallery. */
export const DIAGNOSTIC_STYLE = 'posterize';

export const DEFAULT_SETTINGS: Settings = {
  version: SETTINGS_VERSION,
  enabled: true,
  mode: 'off',
  style: DEFAULT_STYLE,
  avatar: 'anime',
  presentation: 'face-swap',
  backdrop: 'blur',
  backdropColour: '#6b8fb3',
  puppetCharacter: 'mika',
  puppetHair: DEFAULT_PALETTES.mika.hair,
  puppetSkin: DEFAULT_PALETTES.mika.skin,
  puppetEyes: DEFAULT_PALETTES.mika.eyes,
  disabledSites: [],
  mirrorPreview: false,
  backend: 'auto',
  batterySaver: false,
  stability: false,
};

const MODES: readonly Mode[] = ['off', 'anime', 'style'];
const PRESENTATIONS: readonly AvatarPresentation[] = ['face-swap', 'full-avatar', 'puppet'];
const BACKDROPS: readonly AvatarBackdrop[] = ['blur', 'colour', 'scene'];
const COLOUR = /^#[0-9a-f]{6}$/;
const ID = /^[a-z0-9][a-z0-9_-]{0,63}$/;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Turns whatever is in storage (nothing, an older version, a corrupted value) into valid
 * settings. Known fields that are valid are kept; everything else falls back to defaults.
 * Version 1 stored `{on: boolean, filter: 'none' | <style id>}`.
 */
export function parseSettings(raw: unknown): Settings {
  const out: Settings = { ...DEFAULT_SETTINGS, disabledSites: [] };
  if (!isRecord(raw)) return out;
  if (raw.version === 1) {
    if (typeof raw.on === 'boolean') out.enabled = raw.on;
    if (typeof raw.filter === 'string' && raw.filter !== 'none' && ID.test(raw.filter)) {
      out.mode = 'style';
      out.style = raw.filter;
    }
    return out;
  }
  if (typeof raw.enabled === 'boolean') out.enabled = raw.enabled;
  if (typeof raw.mode === 'string' && (MODES as readonly string[]).includes(raw.mode)) out.mode = raw.mode as Mode;
  if (typeof raw.style === 'string' && ID.test(raw.style)) out.style = raw.style;
  if (typeof raw.avatar === 'string' && ID.test(raw.avatar)) out.avatar = raw.avatar;
  if (typeof raw.presentation === 'string' && (PRESENTATIONS as readonly string[]).includes(raw.presentation)) {
    out.presentation = raw.presentation as AvatarPresentation;
  }
  if (typeof raw.backdrop === 'string' && (BACKDROPS as readonly string[]).includes(raw.backdrop)) out.backdrop = raw.backdrop as AvatarBackdrop;
  if (typeof raw.backdropColour === 'string' && COLOUR.test(raw.backdropColour)) out.backdropColour = raw.backdropColour;
  if (isCharacter(raw.puppetCharacter)) out.puppetCharacter = raw.puppetCharacter;
  for (const k of ['puppetHair', 'puppetSkin', 'puppetEyes'] as const) {
    const v = raw[k];
    if (typeof v === 'string' && COLOUR.test(v)) out[k] = v;
  }
  if (Array.isArray(raw.disabledSites)) {
    out.disabledSites = [...new Set(raw.disabledSites.filter((s): s is string => typeof s === 'string' && s.length > 0 && s.length < 256))];
  }
  if (typeof raw.mirrorPreview === 'boolean') out.mirrorPreview = raw.mirrorPreview;
  if (typeof raw.backend === 'string' && (BACKENDS as readonly string[]).includes(raw.backend)) out.backend = raw.backend as BackendPreference;
  if (typeof raw.batterySaver === 'boolean') out.batterySaver = raw.batterySaver;
  if (typeof raw.stability === 'boolean') out.stability = raw.stability;
  return out;
}

/** What a filter host needs to know: the filter for one site, with the switches resolved. */
export type FilterSpec =
  | { kind: 'off' }
  | { kind: 'style'; id: string; backend?: BackendPreference; saver?: true; stable?: true }
  | {
    kind: 'anime'; id: string; presentation: AvatarPresentation; backend?: BackendPreference; saver?: true;
    /** Full avatar and puppet only (the puppet never has 'blur'). */
    backdrop?: { kind: AvatarBackdrop; colour: string };
    /** Puppet only. */
    puppet?: PuppetSpec;
  };

/** Battery saver's caps: processing rate and internal resolution (long side). */
export const SAVER_FPS = 15;
export const SAVER_MAX_SIDE = 320;

/** The puppet's character and colours, as a filter carries them. */
export interface PuppetSpec {
  character: CharacterId;
  hair: string;
  skin: string;
  eyes: string;
}

export function filterFor(settings: Settings, site: string): FilterSpec {
  if (!settings.enabled || settings.mode === 'off' || settings.disabledSites.includes(site)) return { kind: 'off' };
  const saver = settings.batterySaver ? { saver: true as const } : {};
  const stable = settings.stability ? { stable: true as const } : {};
  if (settings.mode === 'style') return { kind: 'style', id: settings.style, backend: settings.backend, ...saver, ...stable };
  if (settings.presentation === 'puppet') {
    // the puppet never stands in front of the room: its 'blur' is the painted scene
    const kind = settings.backdrop === 'blur' ? 'scene' : settings.backdrop;
    const puppet: PuppetSpec = { character: settings.puppetCharacter, hair: settings.puppetHair, skin: settings.puppetSkin, eyes: settings.puppetEyes };
    return { kind: 'anime', id: settings.avatar, presentation: 'puppet', backend: settings.backend, ...saver, backdrop: { kind, colour: settings.backdropColour }, puppet };
  }
  const backdrop = settings.presentation === 'full-avatar' ? { backdrop: { kind: settings.backdrop, colour: settings.backdropColour } } : {};
  return { kind: 'anime', id: settings.avatar, presentation: settings.presentation, backend: settings.backend, ...saver, ...backdrop };
}

const SPEC_KEYS = ['kind', 'id', 'presentation', 'backend', 'saver', 'stable'] as const;

/**
 * Field by field, own properties only: on a strict-CSP page this runs in the page's main thread,
 * where JSON.stringify or a getter on Object.prototype would show the page the settings.
 */
export function sameFilter(a: FilterSpec, b: FilterSpec): boolean {
  for (let i = 0; i < SPEC_KEYS.length; i++) if (own(a, SPEC_KEYS[i]!) !== own(b, SPEC_KEYS[i]!)) return false;
  // the backdrop and the puppet's look, field by field
  const nested = [['backdrop', 'kind'], ['backdrop', 'colour'], ['puppet', 'character'], ['puppet', 'hair'], ['puppet', 'skin'], ['puppet', 'eyes']] as const;
  for (let i = 0; i < nested.length; i++) {
    const [o, k] = nested[i]!;
    if (own(own(a, o), k) !== own(own(b, o), k)) return false;
  }
  return true;
}

/** Validates a FilterSpec that crossed a message boundary. */
export function parseFilterSpec(raw: unknown): FilterSpec | null {
  if (!isRecord(raw)) return null;
  if (raw.kind === 'off') return { kind: 'off' };
  const backend = raw.backend === undefined ? 'auto' : raw.backend;
  if (typeof backend !== 'string' || !(BACKENDS as readonly string[]).includes(backend)) return null;
  const b = backend as BackendPreference;
  if (raw.saver !== undefined && raw.saver !== true) return null;
  const saver = raw.saver === true ? { saver: true as const } : {};
  if (raw.stable !== undefined && (raw.stable !== true || raw.kind !== 'style')) return null;
  const stable = raw.stable === true ? { stable: true as const } : {};
  if (raw.kind === 'style' && typeof raw.id === 'string' && ID.test(raw.id)) return { kind: 'style', id: raw.id, backend: b, ...saver, ...stable };
  if (
    raw.kind === 'anime' && typeof raw.id === 'string' && ID.test(raw.id) &&
    typeof raw.presentation === 'string' && (PRESENTATIONS as readonly string[]).includes(raw.presentation)
  ) {
    let backdrop = {};
    const isPuppet = raw.presentation === 'puppet';
    if (raw.backdrop !== undefined) {
      const d = raw.backdrop;
      if (
        raw.presentation === 'face-swap' || !isRecord(d) || typeof d.kind !== 'string' ||
        !(BACKDROPS as readonly string[]).includes(d.kind) || (isPuppet && d.kind === 'blur') ||
        typeof d.colour !== 'string' || !COLOUR.test(d.colour)
      ) return null;
      backdrop = { backdrop: { kind: d.kind as AvatarBackdrop, colour: d.colour } };
    }
    let puppet = {};
    if (isPuppet) {
      const p = raw.puppet;
      if (!isRecord(p) || !isCharacter(p.character)) return null;
      for (const k of ['hair', 'skin', 'eyes'] as const) if (typeof p[k] !== 'string' || !COLOUR.test(p[k] as string)) return null;
      puppet = { puppet: { character: p.character, hair: p.hair as string, skin: p.skin as string, eyes: p.eyes as string } };
    } else if (raw.puppet !== undefined) return null;
    return { kind: 'anime', id: raw.id, presentation: raw.presentation as AvatarPresentation, backend: b, ...saver, ...backdrop, ...puppet };
  }
  return null;
}
