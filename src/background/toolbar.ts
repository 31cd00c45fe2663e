/**
 * The toolbar button per tab: badge, title and icon for what the tab's frames report
 * ({@link TabState}), and the keyboard shortcut (manifest `commands`: toggle-site) that switches
 * Brushcam off or on for the current tab's site.
 */
import { answerTopSite } from '../shared/site';
import { SettingsStore, toggleSite } from '../shared/settings-store';
import { combine, isTabStateMessage, LOOK, type TabState } from '../shared/tab-state';

export const TOGGLE_COMMAND = 'toggle-site';

/** tab id → frame id → that frame's state. */
const frames = new Map<number, Map<number, TabState>>();
const shown = new Map<number, TabState>();

const icon = (faded: boolean): Record<string, string> => {
  const p = faded ? 'icons/icon-off-' : 'icons/icon-';
  return { 16: `${p}16.png`, 32: `${p}32.png` };
};

async function show(tabId: number): Promise<void> {
  const state = combine(frames.get(tabId)?.values() ?? []);
  if (shown.get(tabId) === state) return;
  shown.set(tabId, state);
  const look = LOOK[state];
  await Promise.all([
    chrome.action.setBadgeText({ tabId, text: look.badge }),
    chrome.action.setBadgeBackgroundColor({ tabId, color: look.colour }),
    chrome.action.setTitle({ tabId, title: look.title }),
    chrome.action.setIcon({ tabId, path: icon(look.faded) }),
  ]).catch(() => {
    /* the tab closed meanwhile */
  });
}

function forget(tabId: number): void {
  frames.delete(tabId);
  shown.delete(tabId);
}

/** Handles a frame's tab-state report; returns false for other messages. */
export function onTabStateMessage(msg: unknown, sender: chrome.runtime.MessageSender): boolean {
  if (!isTabStateMessage(msg) || sender.tab?.id === undefined) return false;
  const tabId = sender.tab.id;
  let m = frames.get(tabId);
  if (!m) frames.set(tabId, (m = new Map()));
  m.set(sender.frameId ?? 0, msg.state);
  void show(tabId);
  return true;
}

export async function onCommand(command: string, tab: chrome.tabs.Tab | undefined): Promise<void> {
  if (command !== TOGGLE_COMMAND) return;
  const t = tab?.id !== undefined ? tab : (await chrome.tabs.query({ active: true, currentWindow: true }))[0];
  const site = await answerTopSite(t?.id, t?.url);
  if (!site) return; // a browser page: nothing Brushcam runs on
  await new SettingsStore().update((s) => toggleSite(s, site));
}

export function installToolbar(): void {
  chrome.tabs.onRemoved.addListener(forget);
  // A new document in the tab: its frames report afresh.
  chrome.tabs.onUpdated.addListener((tabId, info) => {
    if (info.status === 'loading' && info.url !== undefined) forget(tabId);
  });
  chrome.commands.onCommand.addListener((command, tab) => void onCommand(command, tab));
}
