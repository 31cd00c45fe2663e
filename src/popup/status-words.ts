/**
 * The popup's status line in words a user understands, from the settings, the tab's site and the
 * newest pipeline's status (the technical details stay under "Advanced").
 */
import type { PipelineStatus } from '../page/pipeline';
import type { Settings } from '../shared/settings';

export interface StatusWords {
  text: string;
  /** 'ok': working; 'idle': nothing to do; 'wait': starting or looking; 'problem': the user should act. */
  tone: 'ok' | 'idle' | 'wait' | 'problem';
}

/** The painter's internal resolution (long side, px) from the engine's backend line ("tfjs-webgl @ 320px tiny"). */
export function internalSide(backend: string | null): number | null {
  const m = backend ? / @ (\d+)px/.exec(backend) : null;
  return m ? Number(m[1]) : null;
}

export function statusWords(s: Settings, site: string | null, p: PipelineStatus | undefined, camera: boolean): StatusWords {
  if (!s.enabled) return { text: 'Brushcam is off', tone: 'idle' };
  if (site && s.disabledSites.includes(site)) return { text: 'This site is excluded', tone: 'idle' };
  if (s.mode === 'off') return { text: 'No filter chosen: pick a painting style or an avatar', tone: 'idle' };
  if (!p || !camera) return { text: 'Ready: no camera is in use on this tab', tone: 'idle' };
  if (p.state === 'failed') return { text: `Stopped: the call sees a blank picture, not your camera (${p.lastError ?? 'unknown error'})`, tone: 'problem' };
  if (p.state === 'waiting' || p.state === 'loading' || p.filterMs === null) {
    return { text: s.mode === 'anime' ? 'Loading the avatar…' : 'Loading the painting style…', tone: 'wait' };
  }
  if (p.state === 'off') return { text: 'Passing the camera through unchanged', tone: 'idle' };
  const fps = Math.round(p.fpsOut);
  if (s.mode === 'anime') {
    if (/\bno-face\b/.test(p.backend ?? '')) return { text: 'Looking for your face', tone: 'wait' };
    return { text: `Drawing your avatar, ${fps} fps`, tone: 'ok' };
  }
  const side = internalSide(p.backend) ?? Math.max(p.width, p.height);
  return { text: `Painting at ${side} px, ${fps} fps`, tone: 'ok' };
}
