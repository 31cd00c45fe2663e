import { parseSettings, SETTINGS_KEY, type Settings } from './settings';

/** Reads and writes settings in `chrome.storage.local`; used by extension pages only (popup, background). */
export class SettingsStore {
  async load(): Promise<Settings> {
    const stored = await chrome.storage.local.get(SETTINGS_KEY);
    return parseSettings(stored[SETTINGS_KEY]);
  }

  async update(change: (s: Settings) => void): Promise<Settings> {
    const s = await this.load();
    change(s);
    const next = parseSettings(s);
    await chrome.storage.local.set({ [SETTINGS_KEY]: next });
    return next;
  }
}

/**
 * The keyboard shortcut's change: Brushcam off for `site` if it filters there now, otherwise on
 * (the master switch too). The chosen mode and style stay as they are.
 */
export function toggleSite(s: Settings, site: string): void {
  if (s.enabled && !s.disabledSites.includes(site)) {
    s.disabledSites.push(site);
  } else {
    s.enabled = true;
    s.disabledSites = s.disabledSites.filter((x) => x !== site);
  }
}
