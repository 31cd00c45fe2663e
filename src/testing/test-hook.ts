/**
 * Test builds only (build/firefox-test, never dist/): an isolated-world content script that lets
 * end-to-end tests write settings the way the popup does and read the status the popup shows,
 * from the test page, because WebDriver BiDi cannot open moz-extension:// pages. Messages:
 * window.postMessage({ns: 'brushcam-test', id, t: 'settings', patch} | {..., t: 'status'} | {..., t: 'preview'} | {..., t: 'toolbar'}),
 * answered with {ns: 'brushcam-test', t: 'reply', id, result, error}.
 */
window.addEventListener('message', (e: MessageEvent) => {
  const d = e.data as { ns?: unknown; t?: unknown; id?: unknown; patch?: unknown } | null;
  // Requests only: this script's own replies come back to this listener too (same window), and
  // answering them (as an unknown request) would bounce messages between the two for good, which
  // kept the page's main thread busy and its videos at a third of their rate.
  if (e.source !== window || !d || d.ns !== 'brushcam-test' || typeof d.id !== 'number' || d.t === 'reply') return;
  // probe: handled here, never answered (bench/firefox-message-rate.mjs)
  if (d.t === 'silent') return;
  const reply = (result: unknown, error: string | null): void =>
    window.postMessage({ ns: 'brushcam-test', t: 'reply', id: d.id, result, error }, '*');
  const run = async (): Promise<unknown> => {
    if (d.t === 'settings') {
      // Written by the background, as the popup (an extension page) writes them.
      return chrome.runtime.sendMessage({ ns: 'brushcam-test', t: 'settings', patch: JSON.parse(JSON.stringify(d.patch ?? {})) });
    }
    if (d.t === 'status') return chrome.runtime.sendMessage({ ns: 'brushcam-test', t: 'status' });
    // The toolbar button of this tab (badge text, title) and the stored settings.
    if (d.t === 'toolbar') return chrome.runtime.sendMessage({ ns: 'brushcam-test', t: 'toolbar' });
    // The popup's preview request, as the open popup sends it to the tab (privacy tests).
    if (d.t === 'preview') return chrome.runtime.sendMessage({ ns: 'brushcam-test', t: 'preview' });
    // Probes for bench/firefox-message-rate.mjs: a runtime message the background answers at
    // once, and an extension API call that sends no message.
    if (d.t === 'ping') return chrome.runtime.sendMessage({ ns: 'brushcam-test', t: 'ping' });
    if (d.t === 'storage') return chrome.storage.local.get('nothing').then(() => true);
    if (d.t === 'echo') return true;
    throw new Error(`unknown test request ${String(d.t)}`);
  };
  run().then((r) => reply(r ?? null, null), (err: unknown) => reply(null, err instanceof Error ? err.message : String(err)));
});
