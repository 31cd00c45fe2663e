/** The site a frame belongs to for per-site settings: the top-level page's hostname. */
export function siteOf(loc: Location = location): string {
  const ancestors = loc.ancestorOrigins;
  const top = ancestors && ancestors.length > 0 ? ancestors[ancestors.length - 1]! : loc.href;
  try {
    return new URL(top).hostname || top;
  } catch {
    return top;
  }
}
