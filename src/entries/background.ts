/** Service worker: brings stored settings to the current version on install and update. */
import { parseSettings, SETTINGS_KEY } from '../settings';

chrome.runtime.onInstalled.addListener(() => {
  void chrome.storage.local.get(SETTINGS_KEY).then((stored) =>
    chrome.storage.local.set({ [SETTINGS_KEY]: parseSettings(stored[SETTINGS_KEY]) }),
  );
});
