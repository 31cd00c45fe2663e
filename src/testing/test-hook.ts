/**
 * Test builds only (build/firefox-test, never dist/): an isolated-world content script that lets
 * end-to-end tests write settings the way the popup does and read the status the popup shows,
 * from the test page, because WebDriver BiDi cannot open moz-extension:// pages. Messages:
 * window.postMessage({ns: 'brushcam-test', id, t: 'settings', patch} | {..., t: 'status'} | {..., t: 'preview'} | {..., t: 'toolbar'}),
 * answered with {ns: 'brushcam-test', t: 'reply', id, result, error}.
 */
window.addEventListener('message', (e: MessageEvent) => {
  const d = e.data as { ns?: unknown; t?: unknown; id?: unknown; patch?: unknown } | null;
  if (e.source !== window || !d || d.ns !== 'brushcam-test' || typeof d.id !== 'number') return;
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
    throw new Error(`unknown test request ${String(d.t)}`);
  };
  run().then((r) => reply(r ?? null, null), (err: unknown) => reply(null, err instanceof Error ? err.message : String(err)));
});
