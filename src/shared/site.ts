/** The site a frame belongs to for per-site settings: the top-level page's hostname. */
export function siteOf(loc: Location = location): string {
  const ancestors = loc.ancestorOrigins;
  const top = ancestors && ancestors.length > 0 ? ancestors[ancestors.length - 1]! : loc.href;
  return hostnameOf(top);
}

function hostnameOf(url: string): string {
  try {
    return new URL(url).hostname || url;
  } catch {
    return url;
  }
}

/** Content script → background: which site is this frame's tab on? (Browsers without ancestorOrigins.) */
export const TOP_SITE_REQUEST = { ns: 'brushcam', t: 'top-site' } as const;

export function isTopSiteRequest(v: unknown): boolean {
  return typeof v === 'object' && v !== null && (v as { ns?: unknown }).ns === 'brushcam' && (v as { t?: unknown }).t === 'top-site';
}

/**
 * The top-level site of a frame. Chromium lists the ancestors in `location.ancestorOrigins`;
 * Firefox has no such list, so a subframe there asks the background, which asks the tab's top
 * frame (frame 0) for its hostname. `ask` is that round trip; when it fails (no content script
 * in the top frame) the tab's own address, where the browser gives it, is the answer.
 */
export async function topSite(
  loc: Location = location,
  isTop: boolean = window === window.top,
  ask: () => Promise<unknown> = () => chrome.runtime.sendMessage(TOP_SITE_REQUEST),
): Promise<string> {
  if (isTop || (loc.ancestorOrigins && loc.ancestorOrigins.length > 0)) return siteOf(loc);
  try {
    const site = await ask();
    if (typeof site === 'string' && site.length > 0 && site.length < 256) return site;
  } catch {
    /* fall through */
  }
  return siteOf(loc);
}

/**
 * Background side: answers a frame's top-site request with the hostname its tab's top frame
 * reports (every frame runs the content script), or the tab's address when that frame cannot say.
 */
export async function answerTopSite(tabId: number | undefined, tabUrl: string | undefined): Promise<string | null> {
  if (tabId === undefined) return null;
  try {
    const site = await chrome.tabs.sendMessage(tabId, TOP_SITE_REQUEST, { frameId: 0 });
    if (typeof site === 'string' && site.length > 0) return site;
  } catch {
    /* no content script in the top frame */
  }
  return tabUrl ? hostnameOf(tabUrl) : null;
}
