/**
 * What the toolbar button shows for a tab, from what its frames report (content script →
 * background). One word per frame, combined per tab:
 * - 'off': Brushcam does nothing on this site (switched off, mode Off, or the site excluded);
 * - 'paused': on for this site, but no camera is being painted now (no call, camera stopped);
 * - 'on': a camera in this tab is being painted (or its filter is loading);
 * - 'error': a filter stopped; the call gets neutral frames, never the raw camera.
 */
import type { PipelineStatus } from '../page/pipeline';
import type { CameraState } from './bridge-protocol';
import type { FilterSpec } from './settings';

export type TabState = 'off' | 'paused' | 'on' | 'error';
const ORDER: readonly TabState[] = ['off', 'paused', 'on', 'error'];

export interface TabStateMessage { ns: 'brushcam'; t: 'tab-state'; state: TabState }

export function isTabStateMessage(v: unknown): v is TabStateMessage {
  const m = v as Partial<TabStateMessage> | null;
  return typeof m === 'object' && m !== null && m.ns === 'brushcam' && m.t === 'tab-state' &&
    typeof m.state === 'string' && (ORDER as readonly string[]).includes(m.state);
}

/** One frame's state: its resolved filter and, when it runs a camera, its newest pipeline. */
export function frameState(filter: FilterSpec, pipelines: readonly PipelineStatus[], cameras: readonly CameraState[]): TabState {
  if (filter.kind === 'off') return 'off';
  const live = cameras.some((c) => c.state === 'live');
  const p = pipelines[pipelines.length - 1];
  if (live && p?.state === 'failed') return 'error';
  if (live && p && (p.state === 'ok' || p.state === 'loading')) return 'on';
  return 'paused';
}

/** A tab's state from its frames': the most telling one (error, then on, then paused). */
export function combine(states: Iterable<TabState>): TabState {
  let best = 0;
  for (const s of states) best = Math.max(best, ORDER.indexOf(s));
  return ORDER[best]!;
}

/** What the toolbar shows for each state. */
export const LOOK: Record<TabState, { badge: string; colour: string; title: string; faded: boolean }> = {
  off: { badge: '', colour: '#777777', title: 'Brushcam is off for this site', faded: true },
  paused: { badge: '', colour: '#777777', title: 'Brushcam is on for this site; no camera is being painted now', faded: false },
  on: { badge: 'ON', colour: '#1b7f3b', title: 'Brushcam is painting your camera in this tab', faded: false },
  error: { badge: '!', colour: '#c62828', title: 'Brushcam stopped: the call sees a blank picture, not your camera. Open Brushcam for details', faded: false },
};
