/** Background: brings stored settings to the current version on install and update; the toolbar button's state and the keyboard shortcut. */
import { answerTopSite, isTopSiteRequest } from '../shared/site';
import { parseSettings, SETTINGS_KEY } from '../shared/settings';
import { installToolbar, onTabStateMessage } from './toolbar';

chrome.runtime.onInstalled.addListener(() => {
  void chrome.storage.local.get(SETTINGS_KEY).then((stored) =>
    chrome.storage.local.set({ [SETTINGS_KEY]: parseSettings(stored[SETTINGS_KEY]) }),
  );
});

installToolbar();

// A subframe in a browser without location.ancestorOrigins (Firefox) asks which site its tab is
// on, so per-site switches apply to the page the user sees. Frames also report what the toolbar
// should show for their tab.
chrome.runtime.onMessage.addListener((msg: unknown, sender, sendResponse) => {
  if (sender.id !== chrome.runtime.id) return false;
  if (onTabStateMessage(msg, sender)) return false;
  if (!isTopSiteRequest(msg)) return false;
  answerTopSite(sender.tab?.id, sender.tab?.url).then(sendResponse, () => sendResponse(null));
  return true;
});
