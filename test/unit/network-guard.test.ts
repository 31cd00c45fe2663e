/** The engine's network guard: only the extension's own files, blob: of its origin and data: pass. */
import { expect } from '@esm-bundle/chai';
import { guardNetwork, isOwnUrl, NetworkRefused, type GuardedScope } from '../../src/engine/network-guard';

const ROOT = 'chrome-extension://abcdefghijklmnopabcdefghijklmnop/';

/** A worker-like scope whose native functions record what reached them. */
function fakeScope() {
  const reached: string[] = [];
  class FakeXhr {
    open(_m: string, url: string): void {
      reached.push(`xhr ${url}`);
    }
  }
  const scope = {
    location: { href: `${ROOT}engine-worker.js` },
    fetch: (input: RequestInfo | URL) => {
      reached.push(`fetch ${typeof input === 'string' ? input : input instanceof URL ? input.href : input.url}`);
      return Promise.resolve(new Response('ok'));
    },
    XMLHttpRequest: FakeXhr as unknown as typeof XMLHttpRequest,
    importScripts: (...urls: string[]) => {
      for (const u of urls) reached.push(`importScripts ${u}`);
    },
    WebSocket: function () {
      reached.push('WebSocket');
    },
    EventSource: function () {
      reached.push('EventSource');
    },
    navigator: { sendBeacon: (u: string | URL) => (reached.push(`beacon ${String(u)}`), true) },
  };
  return { scope, reached };
}

describe('network guard', () => {
  it('tells the extension\'s own URLs from everything else', () => {
    expect(isOwnUrl('models/manifest.json', ROOT, `${ROOT}engine-worker.js`)).to.equal(true);
    expect(isOwnUrl(`${ROOT}mediapipe/vision_wasm_internal.wasm`, ROOT)).to.equal(true);
    expect(isOwnUrl(`blob:${ROOT}0d7c4b9e-1111-2222-3333-444455556666`, ROOT)).to.equal(true);
    expect(isOwnUrl('data:application/octet-stream;base64,AAAA', ROOT)).to.equal(true);
    for (const foreign of [
      'https://odml.pa.googleapis.com/v1/log', 'http://127.0.0.1:8080/x', '//www.gstatic.com/x.js',
      'chrome-extension://otherextensionidotherextensionid/x', 'blob:https://example.com/0d7c4b9e', 'ws://example.com/',
      `https://example.com/${ROOT}`,
    ]) {
      expect(isOwnUrl(foreign, ROOT, `${ROOT}engine-worker.js`), foreign).to.equal(false);
    }
  });

  it('refuses every way out with an error naming the URL, and lets the extension\'s files through', async () => {
    const { scope, reached } = fakeScope();
    const reported: string[] = [];
    const refused = guardNetwork(scope as unknown as GuardedScope, (e) => reported.push(e.message));
    const s = scope as unknown as Required<GuardedScope> & { XMLHttpRequest: new () => XMLHttpRequest; navigator: { sendBeacon: (u: string, d?: unknown) => boolean } };

    const logger = 'https://odml.pa.googleapis.com/v1/log';
    const err = await s.fetch(logger, { method: 'POST' }).then(() => null, (e: unknown) => e);
    expect(err).to.be.instanceOf(NetworkRefused);
    expect((err as Error).message).to.equal(`Brushcam refuses network requests: fetch ${logger} is outside the extension`);
    const req = await s.fetch(new Request('https://example.com/a')).then(() => null, (e: unknown) => e);
    expect(req).to.be.instanceOf(NetworkRefused);
    expect(() => new s.XMLHttpRequest().open('GET', 'http://example.com/x')).to.throw(NetworkRefused, /XMLHttpRequest http:\/\/example.com\/x/);
    expect(() => s.importScripts('https://cdn.example.com/lib.js')).to.throw(NetworkRefused, /importScripts/);
    expect(() => s.navigator.sendBeacon('https://example.com/b', 'x')).to.throw(NetworkRefused, /sendBeacon/);
    expect(() => new (s.WebSocket as unknown as new (u: string) => unknown)('wss://example.com/')).to.throw(NetworkRefused, /WebSocket wss:/);
    expect(() => new (s.EventSource as unknown as new (u: string) => unknown)('https://example.com/e')).to.throw(NetworkRefused, /EventSource/);
    expect(reached, 'no refused request reached the native function').to.deep.equal([]);
    expect(refused).to.have.length(7);
    expect(reported).to.have.length(7);

    // The extension's own files, relative or absolute, and data: URLs pass through.
    expect(await (await s.fetch('models/manifest.json')).text()).to.equal('ok');
    await s.fetch(`${ROOT}wasm/tfjs-backend-wasm.wasm`);
    await s.fetch('data:text/plain,x');
    new s.XMLHttpRequest().open('GET', `${ROOT}models/manifest.json`);
    s.importScripts(`${ROOT}mediapipe/vision_wasm_internal.js`);
    expect(reached).to.deep.equal([
      'fetch models/manifest.json', `fetch ${ROOT}wasm/tfjs-backend-wasm.wasm`, 'fetch data:text/plain,x',
      `xhr ${ROOT}models/manifest.json`, `importScripts ${ROOT}mediapipe/vision_wasm_internal.js`,
    ]);
  });
});
