/** Settings parsing and the private MAIN ↔ isolated bridge. */
import { expect } from '@esm-bundle/chai';
import { connect, HELLO_FROM_ISOLATED, HELLO_FROM_MAIN, parseToIsolated, parseToMain } from '../../src/shared/bridge-protocol';
import { DEFAULT_SETTINGS, filterFor, parseFilterSpec, parseSettings, sameFilter, SETTINGS_VERSION, type Settings } from '../../src/shared/settings';
import { sleep } from './helpers';

/** The fields a FilterSpec may carry; anything else is junk that must not survive parsing. */
const SPEC_FIELDS = ['kind', 'id', 'presentation', 'backend', 'backdrop'];

/** `actual` is a spec with exactly the fields of `expected` (plus, at most, a valid backend choice). */
function expectSpec(actual: unknown, expected: Record<string, unknown>, what = ''): void {
  expect(actual, what).to.be.an('object');
  const a = actual as Record<string, unknown>;
  expect(Object.keys(a).filter((k) => !SPEC_FIELDS.includes(k)), `${what} junk fields`).to.deep.equal([]);
  const { backend, ...rest } = a;
  expect(rest, what).to.deep.equal(expected);
  if (backend !== undefined) expect(backend, `${what} backend`).to.be.oneOf(['auto', 'webgpu', 'webgl', 'wasm']);
}

const KEYS = Object.keys(DEFAULT_SETTINGS).sort();
const EXT = 'chrome-extension://abcdefghijklmnopabcdefghijklmnop/';

describe('settings', () => {
  it('garbage becomes the defaults, as a fresh object', () => {
    for (const raw of [undefined, null, 0, 42, 'settings', true, [], [1, 2], () => 1, { version: 'x' }, {}]) {
      expect(parseSettings(raw), JSON.stringify(raw) ?? String(raw)).to.deep.equal(DEFAULT_SETTINGS);
    }
    const a = parseSettings(null);
    a.disabledSites.push('example.com');
    a.enabled = false;
    expect(DEFAULT_SETTINGS.disabledSites, 'defaults are not shared').to.deep.equal([]);
    expect(parseSettings(null).disabledSites).to.deep.equal([]);
    expect(DEFAULT_SETTINGS.version).to.equal(SETTINGS_VERSION);
    expect(SETTINGS_VERSION).to.equal(2);
  });

  it('keeps valid v2 fields and drops invalid or unknown ones field by field', () => {
    const good: Settings = {
      ...DEFAULT_SETTINGS,
      version: 2,
      enabled: false,
      mode: 'anime',
      style: 'starry_night',
      avatar: 'anime-2',
      presentation: 'full-avatar',
      disabledSites: ['meet.example.com', 'call.example.org'],
      mirrorPreview: true,
    };
    expect(parseSettings(good)).to.deep.equal(good);
    expect(parseSettings({ ...good, extra: 'junk', __proto__: { polluted: 1 } })).to.deep.equal(good);
    expect(Object.keys(parseSettings({ ...good, extra: 1 })).sort()).to.deep.equal(KEYS);

    const bad = parseSettings({
      version: 2,
      enabled: 'yes',
      mode: 'rainbow',
      style: '../../etc/passwd',
      avatar: 'Anime', // upper case is not an id
      presentation: 'hologram',
      disabledSites: ['ok.example', 7, '', 'ok.example', null, 'x'.repeat(300), 'b.example'],
      mirrorPreview: 1,
    });
    expect(bad).to.deep.equal({ ...DEFAULT_SETTINGS, disabledSites: ['ok.example', 'b.example'] });
    expect(parseSettings({ ...good, style: 'a'.repeat(64) }).style).to.equal('a'.repeat(64));
    expect(parseSettings({ ...good, style: 'a'.repeat(65) }).style).to.equal(DEFAULT_SETTINGS.style);
    expect(parseSettings({ ...good, style: '-lead' }).style).to.equal(DEFAULT_SETTINGS.style);
    expect(parseSettings({ ...good, disabledSites: 'a.example' }).disabledSites).to.deep.equal([]);
  });

  it('migrates version 1 ({on, filter}) to version 2', () => {
    expect(parseSettings({ version: 1, on: false, filter: 'monet' })).to.deep.equal({ ...DEFAULT_SETTINGS, enabled: false, mode: 'style', style: 'monet' });
    expect(parseSettings({ version: 1, on: true, filter: 'none' })).to.deep.equal({ ...DEFAULT_SETTINGS, enabled: true, mode: 'off' });
    // An invalid v1 filter or switch falls back to the defaults.
    expect(parseSettings({ version: 1, on: 'on', filter: 'Not An Id!' })).to.deep.equal(DEFAULT_SETTINGS);
    // v1 had none of the v2 fields: they are not read from a v1 record.
    expect(parseSettings({ version: 1, on: true, filter: 'none', mode: 'anime', disabledSites: ['a.example'] })).to.deep.equal(DEFAULT_SETTINGS);
    const m = parseSettings({ version: 1, on: true, filter: 'udnie' });
    expect(m.version).to.equal(2);
    expectSpec(filterFor(m, 'x.example'), { kind: 'style', id: 'udnie' });
  });

  it('battery saver: stored, carried in the filter spec only when on, validated across messages', () => {
    expect(parseSettings({ version: 2, batterySaver: true }).batterySaver).to.equal(true);
    expect(parseSettings({ version: 2, batterySaver: 'yes' }).batterySaver).to.equal(false);
    const on = parseSettings({ version: 2, mode: 'style', style: 'udnie', batterySaver: true });
    expect(filterFor(on, 'x.test')).to.deep.equal({ kind: 'style', id: 'udnie', backend: 'auto', saver: true });
    expect(filterFor({ ...on, batterySaver: false }, 'x.test')).to.deep.equal({ kind: 'style', id: 'udnie', backend: 'auto' });
    expect(parseFilterSpec({ kind: 'style', id: 'udnie', saver: true })).to.deep.equal({ kind: 'style', id: 'udnie', backend: 'auto', saver: true });
    expect(parseFilterSpec({ kind: 'style', id: 'udnie', saver: 1 })).to.equal(null);
  });

  it('stability: stored, carried in style specs only when on, validated across messages', () => {
    expect(DEFAULT_SETTINGS.stability).to.equal(false);
    expect(parseSettings({ version: 2, stability: true }).stability).to.equal(true);
    expect(parseSettings({ version: 2, stability: 1 }).stability).to.equal(false);
    const on = parseSettings({ version: 2, mode: 'style', style: 'udnie', stability: true });
    expect(filterFor(on, 'x.test')).to.deep.equal({ kind: 'style', id: 'udnie', backend: 'auto', stable: true });
    expect(filterFor({ ...on, stability: false }, 'x.test')).to.deep.equal({ kind: 'style', id: 'udnie', backend: 'auto' });
    expect(filterFor({ ...on, mode: 'anime' }, 'x.test'), 'avatars ignore it').to.not.have.property('stable');
    expect(parseFilterSpec({ kind: 'style', id: 'udnie', stable: true })).to.deep.equal({ kind: 'style', id: 'udnie', backend: 'auto', stable: true });
    expect(parseFilterSpec({ kind: 'style', id: 'udnie', stable: 'yes' })).to.equal(null);
    expect(parseFilterSpec({ kind: 'anime', id: 'anime', presentation: 'face-swap', stable: true })).to.equal(null);
  });

  it('filterFor resolves the master switch, the per-site switch and the mode', () => {
    const s: Settings = { ...DEFAULT_SETTINGS, mode: 'style', style: 'monet', disabledSites: ['off.example'] };
    expectSpec(filterFor(s, 'on.example'), { kind: 'style', id: 'monet' });
    expect(filterFor(s, 'off.example'), 'per-site off').to.deep.equal({ kind: 'off' });
    expect(filterFor({ ...s, enabled: false }, 'on.example'), 'master off').to.deep.equal({ kind: 'off' });
    expect(filterFor({ ...s, mode: 'off' }, 'on.example')).to.deep.equal({ kind: 'off' });
    expectSpec(filterFor({ ...s, mode: 'anime', avatar: 'anime', presentation: 'full-avatar' }, 'on.example'), {
      kind: 'anime',
      id: 'anime',
      presentation: 'full-avatar',
      backdrop: { kind: 'blur', colour: DEFAULT_SETTINGS.backdropColour },
    });
    expect(filterFor({ ...s, mode: 'anime' }, 'off.example')).to.deep.equal({ kind: 'off' });
    // A site is matched exactly, not by substring.
    expectSpec(filterFor(s, 'notoff.example'), { kind: 'style', id: 'monet' });
  });

  it('the full avatar carries its backdrop from the settings to the engine, checked at every boundary', () => {
    const s = parseSettings({ version: 2, mode: 'anime', presentation: 'full-avatar', backdrop: 'scene', backdropColour: '#aa3300' });
    const spec = filterFor(s, 'x.test');
    expect(spec).to.deep.include({ kind: 'anime', presentation: 'full-avatar', backdrop: { kind: 'scene', colour: '#aa3300' } });
    expect(parseFilterSpec(JSON.parse(JSON.stringify(spec)))).to.deep.equal(spec);
    expect(filterFor({ ...s, presentation: 'face-swap' }, 'x.test'), 'face swap has no backdrop').to.not.have.property('backdrop');
    expect(parseSettings({ version: 2, backdrop: 'video', backdropColour: 'red' })).to.deep.include({ backdrop: 'blur', backdropColour: DEFAULT_SETTINGS.backdropColour });
  });

  it('parseFilterSpec accepts only well-formed specs, and copies them', () => {
    expect(parseFilterSpec({ kind: 'off', id: 'x' })).to.deep.equal({ kind: 'off' });
    expectSpec(parseFilterSpec({ kind: 'style', id: 'posterize', junk: 1 }), { kind: 'style', id: 'posterize' });
    expectSpec(parseFilterSpec({ kind: 'anime', id: 'anime', presentation: 'face-swap' }), { kind: 'anime', id: 'anime', presentation: 'face-swap' });
    for (const bad of [
      null,
      'off',
      [],
      { kind: 'OFF' },
      { kind: 'style' },
      { kind: 'style', id: 3 },
      { kind: 'style', id: '' },
      { kind: 'style', id: 'a/b' },
      { kind: 'style', id: 'https://evil.example/model' },
      { kind: 'anime', id: 'anime' },
      { kind: 'anime', id: 'anime', presentation: 'deepfake' },
      { kind: 'anime', id: 'anime', presentation: 'face-swap', backdrop: { kind: 'colour', colour: '#000000' } },
      { kind: 'anime', id: 'anime', presentation: 'full-avatar', backdrop: { kind: 'video', colour: '#000000' } },
      { kind: 'anime', id: 'anime', presentation: 'full-avatar', backdrop: { kind: 'colour', colour: 'url(x)' } },
      { kind: 'anime', id: 'anime', presentation: 'full-avatar', backdrop: 'blur' },
      { kind: 'shader', id: 'x' },
    ]) {
      expect(parseFilterSpec(bad), JSON.stringify(bad)).to.equal(null);
    }
    expect(sameFilter({ kind: 'style', id: 'a' }, { kind: 'style', id: 'a' })).to.equal(true);
    expect(sameFilter({ kind: 'style', id: 'a' }, { kind: 'style', id: 'b' })).to.equal(false);
  });
});

describe('bridge messages', () => {
  const config = { ns: 'brushcam', t: 'config', filter: { kind: 'style', id: 'posterize' }, assetBase: EXT };

  it('parseToMain accepts config and preview messages, stripped to their fields', () => {
    const clean = { ...config, filter: parseFilterSpec(config.filter) };
    expectSpec(clean.filter, config.filter);
    expect(parseToMain(config)).to.deep.equal(clean);
    const junk = parseToMain({ ...config, filter: { ...config.filter, url: 'https://evil.example' }, extra: 'junk' });
    expect(junk).to.deep.equal(clean);
    expect(parseToMain({ ns: 'brushcam', t: 'config', filter: { kind: 'off' }, assetBase: 'moz-extension://0f1e2d3c-aaaa-bbbb-cccc-123456789abc/' })).to.deep.equal({
      ns: 'brushcam',
      t: 'config',
      filter: { kind: 'off' },
      assetBase: 'moz-extension://0f1e2d3c-aaaa-bbbb-cccc-123456789abc/',
    });
    expect(parseToMain({ ns: 'brushcam', t: 'preview', everyMs: 200, x: 1 })).to.deep.equal({ ns: 'brushcam', t: 'preview', everyMs: 200 });
    expect(parseToMain({ ns: 'brushcam', t: 'preview', everyMs: 0 })).to.deep.equal({ ns: 'brushcam', t: 'preview', everyMs: 0 });
  });

  it('parseToMain rejects malformed and forged messages', () => {
    const bad: unknown[] = [
      null,
      'config',
      { ...config, ns: 'brushcam2' },
      { ...config, ns: undefined },
      { ...config, t: 'status' },
      { ...config, t: 'Config' },
      { ...config, filter: { kind: 'style', id: '../x' } },
      { ...config, filter: null },
      { ...config, assetBase: undefined },
      { ...config, assetBase: 'https://evil.example/' },
      { ...config, assetBase: 'chrome-extension://abc' },
      { ...config, assetBase: 'chrome-extension://abc/models/' },
      { ...config, assetBase: 'chrome-extension://abc/?x=https://evil.example/' },
      { ...config, assetBase: 'chrome-extension:///' },
      { ...config, assetBase: 'javascript://abc/' },
      { ...config, assetBase: ` ${EXT}` },
      { ...config, assetBase: `${EXT}\n` },
      { ns: 'brushcam', t: 'preview', everyMs: -1 },
      { ns: 'brushcam', t: 'preview', everyMs: 60_001 },
      { ns: 'brushcam', t: 'preview', everyMs: Number.NaN },
      { ns: 'brushcam', t: 'preview', everyMs: '200' },
      { ns: 'brushcam', t: 'preview' },
    ];
    for (const m of bad) expect(parseToMain(m), JSON.stringify(m) ?? String(m)).to.equal(null);
  });

  it('parseToMain reads engine replies, and only own properties (a getter on Object.prototype is never asked)', () => {
    expect(parseToMain({ ns: 'brushcam', t: 'engine', id: 3, error: null, x: 1 })).to.deep.equal({ ns: 'brushcam', t: 'engine', id: 3, error: null });
    expect(parseToMain({ ns: 'brushcam', t: 'engine', id: 4, error: 'no frame' })).to.deep.equal({ ns: 'brushcam', t: 'engine', id: 4, error: 'no frame' });
    for (const m of [{ ns: 'brushcam', t: 'engine', id: '3', error: null }, { ns: 'brushcam', t: 'engine', id: 3 }, { ns: 'brushcam', t: 'engine', id: 3, error: 5 }]) {
      expect(parseToMain(m), JSON.stringify(m)).to.equal(null);
    }
    const asked: string[] = [];
    const keys = ['backend', 'saver', 'stable', 'presentation', 'error'];
    for (const k of keys) {
      Object.defineProperty(Object.prototype, k, { get() { asked.push(k); return k === 'error' ? null : true; }, configurable: true });
    }
    try {
      const style = parseToMain({ ns: 'brushcam', t: 'config', filter: { kind: 'style', id: 'udnie' }, assetBase: EXT });
      expect(style).to.deep.equal({ ns: 'brushcam', t: 'config', filter: { kind: 'style', id: 'udnie', backend: 'auto' }, assetBase: EXT });
      expect(parseToMain({ ns: 'brushcam', t: 'engine', id: 1 }), 'an inherited error is not an answer').to.equal(null);
    } finally {
      for (const k of keys) delete (Object.prototype as Record<string, unknown>)[k];
    }
    expect(asked).to.deep.equal([]);
  });

  it('parseToIsolated checks the shape of status and preview messages', async () => {
    const status = { ns: 'brushcam', t: 'status', pipelines: [], cameras: [], chained: false };
    expect(parseToIsolated(status)).to.deep.equal(status);
    expect(parseToIsolated({ ...status, ns: 'other' })).to.equal(null);
    expect(parseToIsolated({ ...status, pipelines: 'x' })).to.equal(null);
    expect(parseToIsolated({ ...status, chained: 'no' })).to.equal(null);
    expect(parseToIsolated({ ns: 'brushcam', t: 'preview', bitmap: {} })).to.equal(null);
    expect(parseToIsolated({ ns: 'brushcam', t: 'engine?', id: 7, x: 1 })).to.deep.equal({ ns: 'brushcam', t: 'engine?', id: 7 });
    expect(parseToIsolated({ ns: 'brushcam', t: 'engine?', id: '7' })).to.equal(null);
    const bitmap = await createImageBitmap(new ImageData(2, 2));
    expect(parseToIsolated({ ns: 'brushcam', t: 'preview', bitmap })).to.not.equal(null);
    bitmap.close();
  });
});

describe('connect()', () => {
  interface Side {
    ports: MessagePort[];
  }
  const side = (name: 'main' | 'isolated', doc: Document): Side => {
    const s: Side = { ports: [] };
    connect(name, (p) => s.ports.push(p), doc);
    return s;
  };

  async function exchange(a: MessagePort, b: MessagePort): Promise<void> {
    const got = new Promise<unknown>((r) => (b.onmessage = (e) => r(e.data)));
    a.postMessage({ ns: 'brushcam', t: 'preview', everyMs: 250 });
    const data = await Promise.race([got, sleep(2000).then(() => 'timeout')]);
    expect(parseToMain(data)).to.deep.equal({ ns: 'brushcam', t: 'preview', everyMs: 250 });
    const back = new Promise<unknown>((r) => (a.onmessage = (e) => r(e.data)));
    b.postMessage({ ns: 'brushcam', t: 'status', pipelines: [], cameras: [], chained: true });
    const data2 = await Promise.race([back, sleep(2000).then(() => 'timeout')]);
    expect(parseToIsolated(data2)).to.deep.equal({ ns: 'brushcam', t: 'status', pipelines: [], cameras: [], chained: true });
  }

  const docs: [string, () => Document][] = [
    ['a detached document', () => document.implementation.createHTMLDocument('bridge')],
    ['this page', () => document],
  ];
  const orders: ['main' | 'isolated', 'main' | 'isolated'][] = [
    ['main', 'isolated'],
    ['isolated', 'main'],
  ];

  for (const [docName, makeDoc] of docs) {
    for (const [first, second] of orders) {
      it(`pairs when ${first} runs first (${docName}); messages flow; later hellos get nothing`, async () => {
        const doc = makeDoc();
        const a = side(first, doc);
        expect(a.ports.length, 'no partner yet').to.equal(0);
        const b = side(second, doc);
        expect(a.ports.length).to.equal(1);
        expect(b.ports.length).to.equal(1);
        const main = first === 'main' ? a : b;
        const iso = first === 'main' ? b : a;
        await exchange(iso.ports[0]!, main.ports[0]!);

        // A page script forging hellos after pairing: nobody takes its port.
        for (const type of [HELLO_FROM_ISOLATED, HELLO_FROM_MAIN]) {
          const forged = new MessageChannel();
          const notTaken = doc.dispatchEvent(new MessageEvent(type, { ports: [forged.port2], cancelable: true }));
          expect(notTaken, `forged ${type} accepted`).to.equal(true);
          forged.port1.close();
        }
        expect(a.ports.length).to.equal(1);
        expect(b.ports.length).to.equal(1);
        // And the real channel still works.
        await exchange(iso.ports[0]!, main.ports[0]!);
        for (const p of [...a.ports, ...b.ports]) p.close();
      });
    }
  }

  it('ignores a hello without a port and still pairs with the real partner', async () => {
    const doc = document.implementation.createHTMLDocument('bridge');
    const main = side('main', doc);
    expect(doc.dispatchEvent(new MessageEvent(HELLO_FROM_ISOLATED, { cancelable: true })), 'portless hello accepted').to.equal(true);
    expect(main.ports.length).to.equal(0);
    const iso = side('isolated', doc);
    expect(main.ports.length).to.equal(1);
    expect(iso.ports.length).to.equal(1);
    await exchange(iso.ports[0]!, main.ports[0]!);
  });

  it('two documents do not cross-pair', () => {
    const d1 = document.implementation.createHTMLDocument('one');
    const d2 = document.implementation.createHTMLDocument('two');
    const m1 = side('main', d1);
    const i2 = side('isolated', d2);
    expect(m1.ports.length + i2.ports.length).to.equal(0);
    const i1 = side('isolated', d1);
    expect(m1.ports.length).to.equal(1);
    expect(i1.ports.length).to.equal(1);
    expect(i2.ports.length).to.equal(0);
  });
});
