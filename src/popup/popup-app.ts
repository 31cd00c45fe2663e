import type { PreviewReply, StatusReply } from '../shared/popup-messages';
import { parseModelsManifest, type ModelEntry } from '../shared/models';
import { parseSettings, SETTINGS_KEY, type Settings } from '../shared/settings';

/** Reads and writes settings; the only writer of `chrome.storage` in Brushcam. */
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

export function hostnameOf(url: string | undefined): string | null {
  if (!url) return null;
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:' || u.protocol === 'file:' ? u.hostname : null;
  } catch {
    return null;
  }
}

function $(id: string): HTMLElement {
  const el = document.getElementById(id);
  if (!el) throw new Error(`popup.html is missing #${id}`);
  return el;
}

function fillSelect(select: HTMLSelectElement, models: ModelEntry[], value: string): void {
  select.replaceChildren(
    ...models.map((m) => {
      const o = document.createElement('option');
      o.value = m.id;
      o.textContent = m.name;
      return o;
    }),
  );
  select.value = value;
}

async function main(): Promise<void> {
  const store = new SettingsStore();
  // popup.html?tab=N shows another tab (a popped-out window); otherwise the active tab.
  const tabParam = Number(new URLSearchParams(location.search).get('tab'));
  const tab = Number.isInteger(tabParam) && tabParam > 0
    ? await chrome.tabs.get(tabParam).catch(() => undefined)
    : (await chrome.tabs.query({ active: true, currentWindow: true }))[0];
  const manifestUrl = chrome.runtime.getURL('models/manifest.json');
  let models: ModelEntry[] = [];
  try {
    models = parseModelsManifest(await (await fetch(manifestUrl)).json()).models;
  } catch (e) {
    $('error').textContent = e instanceof Error ? e.message : String(e);
  }

  const enabled = $('enabled') as HTMLInputElement;
  const style = $('style') as HTMLSelectElement;
  const avatar = $('avatar') as HTMLSelectElement;
  const presentation = $('presentation') as HTMLSelectElement;
  const backdrop = $('backdrop') as HTMLSelectElement;
  const backdropColour = $('backdrop-colour') as HTMLInputElement;
  const siteEnabled = $('site-enabled') as HTMLInputElement;
  const mirror = $('mirror') as HTMLInputElement;
  const backendPref = $('backend-pref') as HTMLSelectElement;
  const saver = $('saver') as HTMLInputElement;
  const stability = $('stability') as HTMLInputElement;
  const preview = $('preview') as HTMLImageElement;
  const ask = async <T>(t: 'status' | 'preview'): Promise<T | undefined> => {
    if (tab?.id === undefined) return undefined;
    try {
      return (await chrome.tabs.sendMessage(tab.id, { ns: 'brushcam', t })) as T | undefined;
    } catch {
      return undefined; // no content script in this tab (e.g. a browser page)
    }
  };
  // The tab's address is readable when the user opened the popup on it (activeTab);
  // otherwise the tab's content script says which site it is.
  const site = hostnameOf(tab?.url) ?? (await ask<StatusReply>('status'))?.site ?? null;
  $('site').textContent = site ?? 'this page';
  siteEnabled.disabled = !site;

  const render = (s: Settings): void => {
    enabled.checked = s.enabled;
    for (const r of document.querySelectorAll<HTMLInputElement>('input[name=mode]')) r.checked = r.value === s.mode;
    fillSelect(style, models.filter((m) => m.kind === 'style'), s.style);
    fillSelect(avatar, models.filter((m) => m.kind === 'avatar'), s.avatar);
    presentation.value = s.presentation;
    backdrop.value = s.backdrop;
    backdropColour.value = s.backdropColour;
    $('backdrop-row').hidden = s.presentation !== 'full-avatar';
    backdropColour.hidden = s.backdrop === 'blur';
    siteEnabled.checked = !site || !s.disabledSites.includes(site);
    mirror.checked = s.mirrorPreview;
    backendPref.value = s.backend;
    saver.checked = s.batterySaver;
    stability.checked = s.stability;
    preview.classList.toggle('mirrored', s.mirrorPreview);
    $('style-row').classList.toggle('disabled', s.mode !== 'style');
    $('avatar-row').classList.toggle('disabled', s.mode !== 'anime');
    document.body.classList.toggle('disabled', !s.enabled);
  };
  render(await store.load());

  const on = (el: HTMLElement, change: (s: Settings) => void): void => {
    el.addEventListener('change', () => void store.update(change).then(render));
  };
  on(enabled, (s) => (s.enabled = enabled.checked));
  for (const r of document.querySelectorAll<HTMLInputElement>('input[name=mode]')) {
    on(r, (s) => (s.mode = r.value as Settings['mode']));
  }
  on(style, (s) => {
    s.style = style.value;
    s.mode = 'style';
  });
  on(avatar, (s) => {
    s.avatar = avatar.value;
    s.mode = 'anime';
  });
  on(presentation, (s) => (s.presentation = presentation.value as Settings['presentation']));
  on(backdrop, (s) => (s.backdrop = backdrop.value as Settings['backdrop']));
  on(backdropColour, (s) => (s.backdropColour = backdropColour.value));
  on(mirror, (s) => (s.mirrorPreview = mirror.checked));
  on(backendPref, (s) => (s.backend = backendPref.value as Settings['backend']));
  on(saver, (s) => (s.batterySaver = saver.checked));
  on(stability, (s) => (s.stability = stability.checked));
  on(siteEnabled, (s) => {
    if (!site) return;
    s.disabledSites = s.disabledSites.filter((x) => x !== site);
    if (!siteEnabled.checked) s.disabledSites.push(site);
  });

  const poll = async (): Promise<void> => {
    const st = await ask<StatusReply>('status');
    const p = st?.pipelines[st.pipelines.length - 1];
    $('backend').textContent = p?.backend ?? (p?.filter?.kind === 'off' ? 'passthrough' : '–');
    $('placement').textContent = p ? `${p.placement} (${p.frames} frames)` : '–';
    $('fps').textContent = p ? `${p.fpsOut.toFixed(1)} fps of ${p.fpsIn.toFixed(1)} camera fps, ${p.width}×${p.height}` : 'no camera in use';
    $('error').textContent = p?.lastError ? `${p.state === 'failed' ? 'Filter stopped: ' : ''}${p.lastError}` : '';
    $('chained').hidden = !st?.chained;
    const pv = await ask<PreviewReply>('preview');
    $('preview-empty').hidden = !!pv?.dataUrl;
    preview.hidden = !pv?.dataUrl;
    if (pv?.dataUrl) preview.src = pv.dataUrl;
  };
  const loop = (): void => {
    void poll().finally(() => setTimeout(loop, 300));
  };
  loop();
}

if (typeof chrome !== "undefined" && chrome.storage) void main();
