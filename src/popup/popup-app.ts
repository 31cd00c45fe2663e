import type { PreviewReply, StatusReply } from '../shared/popup-messages';
import { parseModelsManifest, type ModelEntry } from '../shared/models';
import { DEFAULT_STYLE, DIAGNOSTIC_STYLE, type Settings } from '../shared/settings';
import { SettingsStore } from '../shared/settings-store';
import { statusWords } from './status-words';
import { bindPuppet, renderPuppet } from './puppet-controls';

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

/** The name a gallery tile is known by (its radio button's accessible name). */
export function tileName(m: ModelEntry): string {
  const title = m.title ?? m.name;
  return m.artist ? `${title} by ${m.artist}` : title;
}

/**
 * A gallery of thumbnails as a radio group: each tile is a label around a radio button (arrow keys
 * move between them, Space picks), named by the title and the artist.
 */
function fillGallery(box: HTMLElement, group: string, models: ModelEntry[], value: string, pick: (id: string) => void): void {
  if (box.childElementCount !== models.length) {
    box.replaceChildren(
      ...models.map((m) => {
        const tile = document.createElement('label');
        tile.className = 'tile';
        const input = document.createElement('input');
        input.type = 'radio';
        input.name = group;
        input.value = m.id;
        input.setAttribute('aria-label', tileName(m));
        input.addEventListener('change', () => input.checked && pick(m.id));
        const img = document.createElement('img');
        img.alt = '';
        if (m.folder && m.thumbnail) img.src = `models/${m.folder}/${m.thumbnail}`;
        const title = document.createElement('span');
        title.className = 'title';
        title.textContent = m.title ?? m.name;
        tile.append(input, img, title);
        if (m.artist) {
          const artist = document.createElement('span');
          artist.className = 'artist';
          artist.textContent = m.artist;
          tile.append(artist);
        }
        return tile;
      }),
    );
  }
  for (const input of box.querySelectorAll<HTMLInputElement>('input[type=radio]')) input.checked = input.value === value;
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
  const styleGallery = $('style-gallery');
  const avatarGallery = $('avatar-gallery');
  const presentation = $('presentation') as HTMLSelectElement;
  const backdrop = $('backdrop') as HTMLSelectElement;
  const backdropColour = $('backdrop-colour') as HTMLInputElement;
  const siteEnabled = $('site-enabled') as HTMLInputElement;
  const mirror = $('mirror') as HTMLInputElement;
  const backendPref = $('backend-pref') as HTMLSelectElement;
  const saver = $('saver') as HTMLInputElement;
  const stability = $('stability') as HTMLInputElement;
  const diagnostic = $('diagnostic') as HTMLInputElement;
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

  let current: Settings | null = null;
  const pickStyle = (id: string): void => void store.update((s) => {
    s.style = id;
    s.mode = 'style';
  }).then(render);
  const pickAvatar = (id: string): void => void store.update((s) => {
    s.avatar = id;
    s.mode = 'anime';
  }).then(render);
  const render = (s: Settings): void => {
    current = s;
    enabled.checked = s.enabled;
    for (const r of document.querySelectorAll<HTMLInputElement>('input[name=mode]')) r.checked = r.value === s.mode;
    // Trained painting styles only: the built-in shader is a diagnostic, under "Advanced".
    fillGallery(styleGallery, 'style-pick', models.filter((m) => m.kind === 'style' && !m.builtin), s.style, pickStyle);
    diagnostic.checked = s.style === DIAGNOSTIC_STYLE;
    fillGallery(avatarGallery, 'avatar-pick', models.filter((m) => m.kind === 'avatar'), s.avatar, pickAvatar);
    presentation.value = s.presentation;
    backdrop.value = s.backdrop;
    backdropColour.value = s.backdropColour;
    $('backdrop-row').hidden = s.presentation !== 'full-avatar';
    backdropColour.hidden = s.backdrop === 'blur';
    renderPuppet(s);
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
  on(diagnostic, (s) => {
    s.style = diagnostic.checked ? DIAGNOSTIC_STYLE : DEFAULT_STYLE;
    if (diagnostic.checked) s.mode = 'style';
  });
  on(presentation, (s) => (s.presentation = presentation.value as Settings['presentation']));
  on(backdrop, (s) => (s.backdrop = backdrop.value as Settings['backdrop']));
  on(backdropColour, (s) => (s.backdropColour = backdropColour.value));
  bindPuppet(on);
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
    if (current) {
      const words = statusWords(current, site, p, !!st?.cameras.some((c) => c.state === 'live'));
      const el = $('status-words');
      if (el.textContent !== words.text) el.textContent = words.text;
      el.className = words.tone;
    }
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
