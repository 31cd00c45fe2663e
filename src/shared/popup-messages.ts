import type { PipelineStatus } from '../page/pipeline';
import type { CameraState } from './bridge-protocol';

/** Popup → content script of the active tab (chrome.tabs.sendMessage). */
export type PopupRequest = { ns: 'brushcam'; t: 'status' } | { ns: 'brushcam'; t: 'preview' };

/** Content script → popup. Frames without a running pipeline do not answer. */
export type StatusReply = {
  site: string;
  /** The frame's own address (an iframe's, for a call inside one). */
  url: string;
  pipelines: PipelineStatus[];
  cameras: CameraState[];
  /** Another extension patched getUserMedia before us; we run after it. */
  chained: boolean;
};
export type PreviewReply = { dataUrl: string | null; width: number; height: number };

export function isPopupRequest(v: unknown): v is PopupRequest {
  return typeof v === 'object' && v !== null && (v as { ns?: unknown }).ns === 'brushcam' &&
    ((v as { t?: unknown }).t === 'status' || (v as { t?: unknown }).t === 'preview');
}
