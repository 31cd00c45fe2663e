/**
 * Test builds only: relays a test page's status request to every frame of its tab, as the popup
 * does (the frame that runs a camera answers).
 */
chrome.runtime.onMessage.addListener((msg: unknown, sender, sendResponse) => {
  const m = msg as { ns?: unknown; t?: unknown } | null;
  if (sender.id !== chrome.runtime.id || m?.ns !== 'brushcam-test' || m.t !== 'status' || sender.tab?.id === undefined) return false;
  chrome.tabs.sendMessage(sender.tab.id, { ns: 'brushcam', t: 'status' }).then(
    (r: unknown) => sendResponse(r ?? null),
    () => sendResponse(null),
  );
  return true;
});
