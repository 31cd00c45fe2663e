/**
 * Test builds only: writes settings for a test page as the popup does (merged over what is
 * stored), and relays its status and preview requests to every frame of its tab, as the popup
 * does (the frame that runs a camera answers).
 */
import { DEFAULT_SETTINGS, SETTINGS_KEY } from '../shared/settings';

chrome.runtime.onMessage.addListener((msg: unknown, sender, sendResponse) => {
  const m = msg as { ns?: unknown; t?: unknown; patch?: unknown } | null;
  if (sender.id !== chrome.runtime.id || m?.ns !== 'brushcam-test') return false;
  if (m.t === 'settings') {
    void chrome.storage.local.get(SETTINGS_KEY).then(async (stored) => {
      const cur = (stored[SETTINGS_KEY] ?? {}) as Record<string, unknown>;
      await chrome.storage.local.set({ [SETTINGS_KEY]: { ...DEFAULT_SETTINGS, ...cur, ...(m.patch as Record<string, unknown>) } });
      sendResponse(true);
    }, (e: unknown) => sendResponse({ error: String(e) }));
    return true;
  }
  if ((m.t !== 'status' && m.t !== 'preview') || sender.tab?.id === undefined) return false;
  chrome.tabs.sendMessage(sender.tab.id, { ns: 'brushcam', t: m.t }).then(
    (r: unknown) => sendResponse(r ?? null),
    () => sendResponse(null),
  );
  return true;
});
