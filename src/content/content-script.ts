/**
 * Isolated-world content script (document_start, all frames): reads the settings the popup
 * wrote, hands the resolved filter to the MAIN world over the private port, and answers the
 * popup's status and preview requests for this frame.
 */
import type { PopupRequest, PreviewReply, StatusReply } from '../shared/popup-messages';
import { isPopupRequest } from '../shared/popup-messages';
import { connect, parseToIsolated, type ToMain } from '../shared/bridge-protocol';
import { isTopSiteRequest, siteOf, topSite } from '../shared/site';
import { filterFor, parseSettings, SETTINGS_KEY } from '../shared/settings';
import { EngineHost } from './engine-host';

/** This frame's own top-level site, known at once in a top frame and in Chromium. */
let site = siteOf();
const siteKnown = topSite().then((s) => (site = s));
let port: MessagePort | null = null;
let lastStatus: StatusReply | null = null;
let lastPreview: { bitmap: ImageBitmap; at: number } | null = null;
let previewUntil = 0;

let engine: EngineHost | null = null;

function send(msg: ToMain, transfer: Transferable[] = []): void {
  port?.postMessage(msg, transfer);
}

/** Opens an engine session for the MAIN world's pipeline (see EngineHost: the secret stays here). */
async function openEngine(id: number): Promise<void> {
  try {
    engine ??= new EngineHost(chrome.runtime.getURL('engine.html'));
    const p = await engine.open();
    send({ ns: 'brushcam', t: 'engine', id, error: null }, [p]);
  } catch (e) {
    send({ ns: 'brushcam', t: 'engine', id, error: e instanceof Error ? e.message : String(e) });
  }
}

async function pushSettings(): Promise<void> {
  await siteKnown;
  const stored = await chrome.storage.local.get(SETTINGS_KEY);
  const settings = parseSettings(stored[SETTINGS_KEY]);
  send({ ns: 'brushcam', t: 'config', filter: filterFor(settings, site), assetBase: chrome.runtime.getURL('') });
}

connect('isolated', (p) => {
  port = p;
  p.onmessage = (e) => {
    if (!e.isTrusted) return;
    const msg = parseToIsolated(e.data);
    if (!msg) return;
    if (msg.t === 'engine?') void openEngine(msg.id);
    else if (msg.t === 'status') {
      lastStatus = { site, url: location.href, pipelines: msg.pipelines, cameras: msg.cameras, chained: msg.chained };
    } else {
      lastPreview?.bitmap.close();
      lastPreview = { bitmap: msg.bitmap, at: performance.now() };
    }
  };
  void pushSettings();
});

chrome.storage.onChanged.addListener((changes, area) => {
  if (area === 'local' && SETTINGS_KEY in changes) void pushSettings();
});

async function previewReply(): Promise<PreviewReply> {
  // Previews run only while the popup keeps asking.
  const wasOff = performance.now() > previewUntil;
  previewUntil = performance.now() + 2000;
  if (wasOff) send({ ns: 'brushcam', t: 'preview', everyMs: 200 });
  setTimeout(() => {
    if (performance.now() > previewUntil) send({ ns: 'brushcam', t: 'preview', everyMs: 0 });
  }, 2100);
  const p = lastPreview;
  if (!p || performance.now() - p.at > 3000) return { dataUrl: null, width: 0, height: 0 };
  const c = new OffscreenCanvas(p.bitmap.width, p.bitmap.height);
  c.getContext('2d')!.drawImage(p.bitmap, 0, 0);
  const blob = await c.convertToBlob({ type: 'image/jpeg', quality: 0.8 });
  const dataUrl = await new Promise<string>((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(r.result as string);
    r.onerror = () => reject(r.error);
    r.readAsDataURL(blob);
  });
  return { dataUrl, width: p.bitmap.width, height: p.bitmap.height };
}

chrome.runtime.onMessage.addListener((msg: unknown, sender, sendResponse) => {
  if (sender.id !== chrome.runtime.id) return false;
  // The background asks the top frame which site the tab is on (for its subframes).
  if (isTopSiteRequest(msg)) {
    if (window !== window.top) return false;
    sendResponse(siteOf());
    return false;
  }
  if (!isPopupRequest(msg)) return false;
  // Only frames that run a camera pipeline answer.
  if (!lastStatus || lastStatus.cameras.length === 0) return false;
  const req = msg as PopupRequest;
  if (req.t === 'status') {
    sendResponse(lastStatus);
    return false;
  }
  previewReply().then(sendResponse, () => sendResponse({ dataUrl: null, width: 0, height: 0 }));
  return true;
});
