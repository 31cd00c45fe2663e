// Privacy: with every mode running, nothing from the extension touches the network, and the
// page makes no requests it would not make without Brushcam. Least privilege in the manifest.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { engineFrame, launch, setSettings, waitForFilter } from '../support/browser.mjs';
import { root, stillCamera } from '../support/fixtures.mjs';
import { serve } from '../support/server.mjs';

const cam = stillCamera(640, 360);
let server, browser;
const requests = [];

before(async () => {
  server = await serve();
  browser = await launch({ camera: cam.y4m });
  // (a service worker's request has no frame: Playwright throws when asked for it)
  const frameOf = (r) => {
    if (r.serviceWorker?.()) return 'sw';
    try {
      return r.frame().url();
    } catch {
      return null;
    }
  };
  browser.context.on('request', (r) => requests.push({ url: r.url(), frame: frameOf(r) }));
  // Service workers (the extension's background) are covered by CDP on each worker target.
  for (const sw of browser.context.serviceWorkers()) sw.on?.('request', (r) => requests.push({ url: r.url(), frame: 'sw' }));
});
after(async () => {
  await browser?.close();
  await server?.close();
});

describe('privacy', () => {
  it('makes no network request from any extension context in any mode', async () => {
    const manifest = JSON.parse(readFileSync(join(root, 'models/manifest.json'), 'utf8'));
    const neural = manifest.models.find((m) => m.kind === 'style' && m.folder);
    const modes = [{ mode: 'off' }, { mode: 'style', style: 'posterize' }, ...(neural ? [{ mode: 'style', style: neural.id, backend: 'wasm' }] : []), { mode: 'anime' }];
    const page = await browser.context.newPage();
    await page.goto(`${server.url}/index.html`);
    await page.waitForFunction(() => window.gumTest);
    await page.evaluate(() => gumTest.open());
    const pageOwn = new Set(requests.map((r) => r.url));
    for (const m of modes) {
      await setSettings(browser.context, browser.extensionId, m);
      if (m.mode !== 'anime') await waitForFilter(browser.context, browser.extensionId, page.url(), 60000, m.style ?? null);
      await page.waitForTimeout(1500);
    }
    await page.close();
    const ext = `chrome-extension://${browser.extensionId}/`;
    const offenders = requests.filter((r) => {
      if (r.url.startsWith(ext) || r.url.startsWith('data:') || r.url.startsWith('blob:')) return false;
      // the engine frame at the extension's per-session dynamic address (use_dynamic_url)
      if (/^chrome-extension:\/\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\/engine\.html$/.test(r.url)) return false;
      // The test page's own files (and what the test itself asked for) are allowed.
      return !(r.url.startsWith(server.url) && (pageOwn.has(r.url) || /\/(index\.html|gum\.js|favicon\.ico|fixtures\/)/.test(r.url)));
    });
    assert.deepEqual(offenders, [], 'no request left the browser for Brushcam');
  });

  it("adds nothing a page can see: the same globals and prototype keys as without Brushcam", async () => {
    const keysOf = async (b) => {
      const page = await b.context.newPage();
      try {
        await page.goto(`${server.url}/index.html`);
        await page.waitForFunction(() => window.gumTest);
        // After a camera call, so that everything Brushcam sets up for a call exists.
        const i = await page.evaluate(() => gumTest.open());
        await page.waitForTimeout(1000);
        const keys = await page.evaluate(() => {
          const own = (o) => [...Object.getOwnPropertyNames(o), ...Object.getOwnPropertySymbols(o).map(String)].sort();
          return {
            window: own(window), document: own(document), navigator: own(navigator),
            MediaDevices: own(MediaDevices.prototype), MediaStreamTrack: own(MediaStreamTrack.prototype),
            MediaStream: own(MediaStream.prototype), Function: own(Function.prototype), Navigator: own(Navigator.prototype),
          };
        });
        await page.evaluate((i) => gumTest.stop(i), i);
        return keys;
      } finally {
        await page.close();
      }
    };
    const plain = await launch({ camera: cam.y4m, extension: null });
    let without;
    try {
      without = await keysOf(plain);
    } finally {
      await plain.close();
    }
    await setSettings(browser.context, browser.extensionId, { mode: 'style', style: 'posterize' });
    const withExt = await keysOf(browser);
    for (const k of Object.keys(without)) {
      const added = withExt[k].filter((x) => !without[k].includes(x));
      assert.deepEqual(added, [], `${k}: keys Brushcam added`);
    }
  });

  it('asks for the least privilege it needs', () => {
    const m = JSON.parse(readFileSync(join(root, 'dist/chrome/manifest.json'), 'utf8'));
    // offscreen: the multi-threaded engine's document (no host access, no install warning)
    assert.deepEqual([...m.permissions].sort(), ['activeTab', 'offscreen', 'storage']);
    const ff = JSON.parse(readFileSync(join(root, 'dist/firefox/manifest.json'), 'utf8'));
    assert.deepEqual([...ff.permissions].sort(), ['activeTab', 'storage'], 'Firefox: no offscreen documents');
    assert.equal(m.host_permissions, undefined, 'no host permissions');
    assert.ok(!JSON.stringify(m).includes('webRequest'), 'no webRequest');
    assert.ok(!('declarative_net_request' in m), 'no request rewriting (no CSP stripping)');
    assert.deepEqual(m.web_accessible_resources.map((w) => w.resources).flat(), ['engine.html'], 'only the engine frame is reachable from pages');
    assert.ok(m.web_accessible_resources.every((w) => w.use_dynamic_url === true), 'and only at the per-session dynamic address');
    assert.match(m.content_security_policy.extension_pages, /^script-src 'self' 'wasm-unsafe-eval'; object-src 'self'; connect-src 'self'$/);
  });

  it('a page cannot find the engine: hidden from the DOM, and its fixed address does not load', async () => {
    const m = JSON.parse(readFileSync(join(root, 'dist/chrome/manifest.json'), 'utf8'));
    assert.ok(m.web_accessible_resources.every((w) => w.use_dynamic_url === true), 'web-accessible only at the per-session dynamic address');
    const manifest = JSON.parse(readFileSync(join(root, 'models/manifest.json'), 'utf8'));
    const neural = manifest.models.find((x) => x.kind === 'style' && x.folder);
    await setSettings(browser.context, browser.extensionId, { mode: 'style', style: neural.id, backend: 'wasm' });
    const page = await browser.context.newPage();
    try {
      await page.goto(`${server.url}/index.html`);
      await page.waitForFunction(() => window.gumTest);
      const i = await page.evaluate(() => gumTest.open());
      // Brushcam's own session works (the positive control)...
      await waitForFilter(browser.context, browser.extensionId, page.url());
      const url = engineFrame(page)?.url();
      assert.ok(url, 'the engine frame is up');
      assert.ok(!url.includes('#'), 'the secret is gone from the engine\'s address once read');
      const fixed = `chrome-extension://${browser.extensionId}/engine.html`;
      const seen = await page.evaluate(async (fixed) => ({
        frames: document.querySelectorAll('iframe').length,
        html: /engine|chrome-extension/.test(document.documentElement.outerHTML),
        // the classic probe for an extension: load one of its web-accessible files
        fetch: await fetch(fixed, { mode: 'no-cors' }).then(() => 'loaded', () => 'refused'),
        script: await new Promise((r) => {
          const s = document.createElement('script');
          s.src = fixed;
          s.onload = () => r('loaded');
          s.onerror = () => r('refused');
          document.head.append(s);
        }),
      }), fixed);
      assert.deepEqual(seen, { frames: 0, html: false, fetch: 'refused', script: 'refused' });
      await page.evaluate((i) => gumTest.stop(i), i);
    } finally {
      await page.close();
    }
  });

  it('the engine serves only sessions that bring the secret in its address', async () => {
    // An extension page can frame the engine with any address it likes: without the secret, or
    // with a wrong one, a session gets no answer; with the one in the address, it does.
    const p = await browser.context.newPage();
    try {
      await p.goto(`chrome-extension://${browser.extensionId}/popup.html`);
      const answers = await p.evaluate(async () => {
        const secret = 'c0ffee'.repeat(6).slice(0, 32);
        const ask = async (hash, sent) => {
          const f = document.createElement('iframe');
          f.src = `engine.html${hash}`;
          document.body.append(f);
          await new Promise((r) => (f.onload = r));
          const ch = new MessageChannel();
          const got = new Promise((r) => {
            ch.port1.onmessage = (e) => r(e.data?.t ?? 'message');
            setTimeout(() => r('no answer'), 8000);
          });
          f.contentWindow.postMessage({ t: 'brushcam:engine-connect', secret: sent }, '*', [ch.port2]);
          ch.port1.postMessage({ t: 'create', spec: { kind: 'style', id: 'no-such-style', backend: 'wasm' } });
          const r = await got;
          f.remove();
          return r;
        };
        return {
          noSecretInAddress: await ask('', secret),
          wrong: await ask(`#${secret}`, 'f'.repeat(32)),
          none: await ask(`#${secret}`, undefined),
          right: await ask(`#${secret}`, secret),
        };
      });
      assert.deepEqual(answers, { noSecretInAddress: 'no answer', wrong: 'no answer', none: 'no answer', right: 'error' });
    } finally {
      await p.close();
    }
  });

  it("refuses requests outside the extension: the engine worker's guard, and the extension pages' CSP", async () => {
    await setSettings(browser.context, browser.extensionId, { mode: 'style', style: 'posterize' });
    // a server that counts every request that gets through
    let hits = 0;
    const counted = createServer((req, res) => {
      hits++;
      res.end('reached');
    });
    await new Promise((r) => counted.listen(0, '127.0.0.1', r));
    const probe = `http://127.0.0.1:${counted.address().port}/probe`;
    try {
      const page = await browser.context.newPage();
      await page.goto(`${server.url}/index.html`);
      await page.waitForFunction(() => window.gumTest);
      const i = await page.evaluate(() => gumTest.open());
      const manifest = JSON.parse(readFileSync(join(root, 'models/manifest.json'), 'utf8'));
      const neural = manifest.models.find((m) => m.kind === 'style' && m.folder);
      await setSettings(browser.context, browser.extensionId, { mode: 'style', style: neural.id, backend: 'wasm' });
      await waitForFilter(browser.context, browser.extensionId, page.url(), 60000, neural.id);
      const f = engineFrame(page);
      assert.ok(f, 'the engine frame is up');
      // In the engine worker: the guard refuses before the network.
      await f.evaluate((url) => {
        delete document.documentElement.dataset.networkProbe;
        window.postMessage({ t: 'brushcam:network-probe', url }, '*');
      }, probe);
      // as long as the other engine hooks wait (a busy worker answers between frames)
      const worker = await f.waitForFunction(() => document.documentElement.dataset.networkProbe, null, { polling: 100, timeout: 20000 }).then((h) => h.jsonValue());
      assert.equal(worker, `NetworkRefused: Brushcam refuses network requests: fetch ${probe} is outside the extension`);
      // In an extension page without the guard (the popup): the CSP's connect-src refuses it.
      const popup = await browser.context.newPage();
      await popup.goto(`chrome-extension://${browser.extensionId}/popup.html`);
      const csp = await popup.evaluate(async (url) => {
        const violations = [];
        document.addEventListener('securitypolicyviolation', (e) => violations.push(e.effectiveDirective));
        const r = await fetch(url).then((x) => `fetched ${x.status}`, (e) => e.name);
        await new Promise((res) => setTimeout(res, 200));
        return { r, violations };
      }, probe);
      assert.deepEqual(csp, { r: 'TypeError', violations: ['connect-src'] });
      await popup.close();
      await page.evaluate((i) => gumTest.stop(i), i);
      await page.close();
      assert.equal(hits, 0, 'no probe request reached the server');
    } finally {
      await new Promise((r) => counted.close(r));
    }
  });
});
