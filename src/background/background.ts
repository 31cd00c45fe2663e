/** Background: brings stored settings to the current version on install and update. */
import { answerTopSite, isTopSiteRequest } from '../shared/site';
import { parseSettings, SETTINGS_KEY } from '../shared/settings';

chrome.runtime.onInstalled.addListener(() => {
  void chrome.storage.local.get(SETTINGS_KEY).then((stored) =>
    chrome.storage.local.set({ [SETTINGS_KEY]: parseSettings(stored[SETTINGS_KEY]) }),
  );
});

// A subframe in a browser without location.ancestorOrigins (Firefox) asks which site its tab is
// on, so per-site switches apply to the page the user sees.
chrome.runtime.onMessage.addListener((msg: unknown, sender, sendResponse) => {
  if (sender.id !== chrome.runtime.id || !isTopSiteRequest(msg)) return false;
  answerTopSite(sender.tab?.id, sender.tab?.url).then(sendResponse, () => sendResponse(null));
  return true;
});
