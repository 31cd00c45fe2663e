// End-to-end: the built extension (dist/chrome) in Debian's Chromium with a fake camera that
// plays a still picture, on unmodified local pages: a plain page, a strict-CSP page like a
// real call site's, a page whose call runs in an iframe, and the demo WebRTC call.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { allStatus, extensionStatus as statusOf, launch, setSettings } from '../support/browser.mjs';
import { MARKER, stillCamera } from '../support/fixtures.mjs';
import { serve } from '../support/server.mjs';

const cam = stillCamera(640, 360);
const REF = '/fixtures/still2-640x360.png';
let server, browser;

before(async () => {
  server = await serve();
  browser = await launch({ camera: cam.y4m });
});
after(async () => {
  await browser?.close();
  await server?.close();
});

const settings = (patch) => setSettings(browser.context, browser.extensionId, patch);

/** Asks the extension, as the popup does, for the status of the frame showing `page`. */
async function extensionStatus(page) {
  const url = page.url();
  const all = await allStatus(browser.context, browser.extensionId);
  const mine = all.filter((s) => s.url === url);
  assert.equal(mine.length, 1, `one status reply for ${url}, got ${JSON.stringify(all.map((s) => s.url))}`);
  return mine[0];
}

const extensionStatus2 = (b, page) => statusOf(b.context, b.extensionId, page.url());

const opened = new Set();
afterEach(async () => {
  for (const p of opened) await p.close().catch(() => {});
  opened.clear();
});

async function openPage(path = '/index.html') {
  const page = await browser.context.newPage();
  opened.add(page);
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(`${server.url}${path}`);
  await page.waitForFunction(() => window.gumTest);
  return page;
}

/** Polls fn until it returns truthy (or throws the last assertion after timeoutMs). */
async function eventually(fn, timeoutMs = 5000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      const v = await fn();
      if (v !== false) return v;
    } catch (e) {
      if (Date.now() > end) throw e;
    }
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 200));
  }
}

function assertPosterized(r, what) {
  assert.ok(r.diffRaw > 10, `${what}: output should differ from the camera (mean |diff| ${r.diffRaw.toFixed(2)})`);
  assert.ok(r.diffPosterized < 4, `${what}: output should be posterize(camera) (mean |diff| ${r.diffPosterized.toFixed(2)})`);
}
function assertRaw(r, what) {
  assert.ok(r.diffRaw < 4, `${what}: output should equal the camera (mean |diff| ${r.diffRaw.toFixed(2)})`);
}

describe('plain page', () => {
  it('is a pure passthrough when off and posterizes when the style is on, live on the same track', async () => {
    await settings({ mode: 'off' });
    const page = await openPage();
    const i = await page.evaluate(() => gumTest.open());
    const off = await page.evaluate(([i, ref]) => gumTest.compare(i, ref), [i, REF]);
    assert.deepEqual([off.width, off.height], [640, 360]);
    assertRaw(off, 'off');

    await settings({ mode: 'style', style: 'posterize' });
    const on = await eventually(async () => {
      const r = await page.evaluate(([i, ref]) => gumTest.compare(i, ref), [i, REF]);
      assertPosterized(r, 'style on');
      return r;
    });
    assert.ok(on.timestamp > off.timestamp);
    await eventually(async () => {
      const st = await extensionStatus(page);
      assert.equal(st.pipelines.length, 1, 'one getUserMedia call, one pipeline: no new camera request');
      assert.equal(st.cameras.length, 1);
      assert.equal(st.pipelines[0].placement, 'worker');
      assert.equal(st.pipelines[0].state, 'ok');
      // WebGL2 on a GPU; Canvas 2D where WebGL is a CPU rasteriser (this CI: SwiftShader)
      assert.match(st.pipelines[0].backend, /^(webgl2|canvas2d \(software WebGL\))$/);
    });

    await settings({ enabled: false });
    await eventually(async () => assertRaw(await page.evaluate(([i, ref]) => gumTest.compare(i, ref), [i, REF]), 'master off'));
    await settings({ enabled: true, disabledSites: ['127.0.0.1'] });
    await eventually(async () => assertRaw(await page.evaluate(([i, ref]) => gumTest.compare(i, ref), [i, REF]), 'site off'));
    await settings({ disabledSites: [] });
    await page.close();
  });

  it('reports the camera settings at once, follows applyConstraints, and stops the camera with the last clone', async () => {
    await settings({ mode: 'style', style: 'posterize' });
    const page = await openPage();
    const first = await page.evaluate(async () => {
      const s = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 360 } });
      const t = s.getVideoTracks()[0];
      const r = { settings: t.getSettings(), caps: t.getCapabilities(), constraints: t.getConstraints(), label: t.label };
      for (const x of s.getTracks()) x.stop();
      return r;
    });
    assert.equal(first.settings.width, 640);
    assert.equal(first.settings.height, 360);
    assert.ok(first.settings.frameRate > 0);
    assert.ok(first.settings.deviceId, 'deviceId of the camera');
    assert.ok(first.caps.width?.max >= 640, 'capabilities come from the camera');
    assert.deepEqual(first.constraints, { width: 640, height: 360 });
    assert.match(first.label, /still2-640x360/);

    const i = await page.evaluate(() => gumTest.open());
    const s = await page.evaluate((i) => gumTest.applyConstraints(i, { width: 320, height: 180 }), i);
    assert.deepEqual([s.width, s.height], [320, 180]);
    await eventually(async () => {
      const c = await page.evaluate((i) => gumTest.count(i, 600), i);
      assert.deepEqual(c.sizes, ['320x180']);
    });

    const j = await page.evaluate((i) => gumTest.clone(i), i);
    await page.evaluate((i) => gumTest.stop(i), i);
    const c = await page.evaluate((j) => gumTest.count(j, 1000), j);
    assert.ok(c.frames >= 15, `the clone keeps receiving frames after the original stopped (${c.frames})`);
    let st = await eventually(async () => {
      const x = await extensionStatus(page);
      assert.equal(x.cameras.at(-1).state, 'live');
      return x;
    });
    await page.evaluate((j) => gumTest.stop(j), j);
    st = await eventually(async () => {
      const x = await extensionStatus(page);
      assert.ok(x.cameras.every((cam) => cam.state === 'ended'), `all cameras released: ${JSON.stringify(x.cameras)}`);
      return x;
    });
    assert.equal(st.pipelines.length, 0);
    await page.close();
  });

  it('gives five calls five independent tracks; stopping them in random order never kills the others', async () => {
    // Five tracks of one camera share its few capture buffers: a pipeline that queued camera
    // frames while its worker started could hold them all and stop the camera for every track
    // (Chromium's built-in fake camera here, in a browser of its own).
    const own = await launch({ camera: null });
    try {
      await setSettings(own.context, own.extensionId, { mode: 'style', style: 'posterize' });
      const page = await own.context.newPage();
      await page.goto(`${server.url}/index.html`);
      await page.waitForFunction(() => window.gumTest);
      const ids = [];
      for (let k = 0; k < 5; k++) ids.push(await page.evaluate(() => gumTest.open({ video: { width: 320, height: 180 } })));
      for (const [k, id] of ids.entries()) {
        await eventually(async () => {
          const c = await page.evaluate((i) => gumTest.count(i, 1000), id);
          assert.ok(c.frames >= 3, `track ${k} delivers frames with all five open (${c.frames})`);
        }, 10000);
      }
      const order = [3, 0, 4, 1, 2];
      for (const [n, k] of order.entries()) {
        await page.evaluate((i) => gumTest.stop(i), ids[k]);
        for (const other of order.slice(n + 1)) {
          await eventually(async () => {
            const c = await page.evaluate((i) => gumTest.count(i, 1000), ids[other]);
            assert.ok(c.frames >= 3, `track ${other} still delivers frames after stopping ${k} (${c.frames})`);
          }, 10000);
        }
        const info = await page.evaluate((i) => gumTest.info(i), ids[k]);
        assert.equal(info[0].readyState, 'ended');
      }
      await eventually(async () => {
        const x = await extensionStatus2(own, page);
        assert.equal(x.cameras.length, 5);
        assert.ok(x.cameras.every((cam) => cam.state === 'ended'), JSON.stringify(x.cameras));
      });
    } finally {
      await own.close();
    }
  });

  it('switches cameras by deviceId, and a disabled track sends black without stopping the camera', async () => {
    // Chromium's file camera is a single device; its built-in fake offers two.
    const two = await launch({ camera: null });
    try {
      await setSettings(two.context, two.extensionId, { mode: 'style', style: 'posterize' });
      const page = await two.context.newPage();
      await page.goto(`${server.url}/index.html`);
      await page.waitForFunction(() => window.gumTest);
      const r = await page.evaluate(async () => {
        const cams = (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === 'videoinput');
        const a = await navigator.mediaDevices.getUserMedia({ video: { deviceId: { exact: cams[0].deviceId } } });
        const b = await navigator.mediaDevices.getUserMedia({ video: { deviceId: { exact: cams[1].deviceId } } });
        const got = [a, b].map((s) => s.getVideoTracks()[0].getSettings().deviceId);
        // Only what the rest of the test needs stays open (fewer consumers of the fake camera).
        for (const s of [a, b]) s.getTracks().forEach((t) => t.stop());
        return { n: cams.length, ids: cams.map((c) => c.deviceId), got };
      });
      assert.equal(r.n, 2, 'the fake camera offers two devices');
      assert.deepEqual(r.got, r.ids, 'each call got the camera it asked for');

      const i = await page.evaluate(() => gumTest.open());
      await page.evaluate((i) => gumTest.setEnabled(i, false), i);
      await eventually(async () => {
        const off = await page.evaluate((i) => gumTest.count(i, 1500), i);
        assert.ok(off.frames > 0 && off.firstMean < 2, `a disabled track delivers black frames (${off.frames} frames, mean ${off.firstMean})`);
      }, 10000);
      await page.evaluate((i) => gumTest.setEnabled(i, true), i);
      await eventually(async () => {
        const on = await page.evaluate((i) => gumTest.count(i, 1500), i);
        assert.ok(on.firstMean > 20, `re-enabled: the picture is back (${on.frames} frames, mean ${on.firstMean})`);
      }, 10000);
      // The status reaches the extension once a second.
      await eventually(async () => {
        const st = await extensionStatus2(two, page);
        assert.equal(st.cameras.length, 3);
        assert.equal(st.cameras.at(-1).state, 'live', 'disabling never stopped the camera');
      }, 10000);
    } finally {
      await two.close();
    }
  });

  it('passes audio through untouched and leaves audio-only requests alone; the patch looks native', async () => {
    const page = await openPage();
    const r = await page.evaluate(async () => {
      const gum = navigator.mediaDevices.getUserMedia;
      const av = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
      const a = await navigator.mediaDevices.getUserMedia({ audio: true });
      const out = {
        toString: String(gum),
        fnToString: Function.prototype.toString.call(gum),
        name: gum.name,
        length: gum.length,
        sameOnPrototype: gum === MediaDevices.prototype.getUserMedia,
        kinds: av.getTracks().map((t) => t.kind).sort(),
        audioLabel: av.getAudioTracks()[0].label,
        audioOnlyLabel: a.getAudioTracks()[0].label,
        audioOnlyCount: a.getTracks().length,
        ownKeys: Object.getOwnPropertyNames(window).filter((k) => /brushcam/i.test(k)),
      };
      for (const t of [...av.getTracks(), ...a.getTracks()]) t.stop();
      return out;
    });
    assert.equal(r.toString, 'function getUserMedia() { [native code] }');
    assert.equal(r.fnToString, r.toString);
    assert.equal(r.name, 'getUserMedia');
    assert.equal(r.length, 0);
    assert.ok(r.sameOnPrototype);
    assert.deepEqual(r.kinds, ['audio', 'video']);
    assert.ok(r.audioLabel.length > 0);
    assert.equal(r.audioOnlyCount, 1);
    assert.deepEqual(r.ownKeys, []);
    await page.close();
  });

  it('fails closed: an unknown style never shows the raw camera, and the status says why', async () => {
    await settings({ mode: 'style', style: 'no-such-style' });
    const page = await openPage();
    const i = await page.evaluate(() => gumTest.open());
    const r = await page.evaluate(([i, ref, m]) => gumTest.compare(i, ref, 10, m), [i, REF, MARKER]);
    assert.ok(r.diffRaw > 10, `not the camera (mean |diff| ${r.diffRaw})`);
    assert.ok(r.markerContrast < 5, `the raw-only marker must be gone, contrast ${r.markerContrast}`);
    await eventually(async () => {
      const st = await extensionStatus(page);
      assert.equal(st.pipelines[0].state, 'failed');
      assert.match(st.pipelines[0].lastError, /style model 'no-such-style' not found; known: posterize/);
    });
    await settings({ style: 'posterize' });
    await eventually(async () => assertPosterized(await page.evaluate(([i, ref]) => gumTest.compare(i, ref), [i, REF]), 'recovered'));
    await page.close();
  });

  it('battery saver halves a 30-fps camera to 15 processed frames a second, and lifting it restores the rate', async () => {
    await settings({ mode: 'style', style: 'posterize', batterySaver: true });
    try {
      const page = await openPage();
      const i = await page.evaluate(() => gumTest.open());
      await eventually(async () => assert.ok((await extensionStatus(page)).pipelines[0].state === 'ok'), 15000);
      await new Promise((r) => setTimeout(r, 1000));
      const saving = await page.evaluate((i) => gumTest.count(i, 3000), i);
      assertPosterized(await page.evaluate(([i, ref]) => gumTest.compare(i, ref, 2), [i, REF]), 'battery saver');
      await settings({ batterySaver: false });
      await new Promise((r) => setTimeout(r, 1500));
      const full = await page.evaluate((i) => gumTest.count(i, 3000), i);
      const fps = (c) => c.frames / c.seconds;
      console.log(`battery saver: ${fps(saving).toFixed(1)} fps; without: ${fps(full).toFixed(1)} fps`);
      assert.ok(fps(saving) > 10 && fps(saving) < 17, `about 15 fps with battery saver (${fps(saving).toFixed(1)})`);
      assert.ok(fps(full) > 22, `the camera's rate without it (${fps(full).toFixed(1)})`);
    } finally {
      await settings({ batterySaver: false });
    }
  });

  it('ignores page messages that imitate the bridge', async () => {
    await settings({ mode: 'style', style: 'posterize' });
    const page = await openPage();
    const i = await page.evaluate(() => gumTest.open());
    await page.evaluate(() => {
      const forged = { ns: 'brushcam', t: 'config', filter: { kind: 'off' }, assetBase: 'chrome-extension://abc/' };
      window.postMessage(forged, '*');
      for (const type of ['brushcam:hello-from-isolated', 'brushcam:hello-from-main']) {
        const ch = new MessageChannel();
        document.dispatchEvent(new MessageEvent(type, { ports: [ch.port2], cancelable: true }));
        ch.port1.postMessage(forged);
      }
    });
    await new Promise((r) => setTimeout(r, 500));
    assertPosterized(await page.evaluate(([i, ref]) => gumTest.compare(i, ref), [i, REF]), 'after forged messages');
    await page.close();
  });
});

describe('strict-CSP page (no blob: workers, no wasm)', () => {
  it('filters on the main thread and still honours off/on live', async () => {
    await settings({ mode: 'style', style: 'posterize' });
    const page = await openPage('/strict/index.html');
    const i = await page.evaluate(() => gumTest.open());
    assertPosterized(await page.evaluate(([i, ref]) => gumTest.compare(i, ref), [i, REF]), 'strict CSP');
    await eventually(async () => assert.equal((await extensionStatus(page)).pipelines[0].placement, 'main-thread'));
    await settings({ mode: 'off' });
    await eventually(async () => assertRaw(await page.evaluate(([i, ref]) => gumTest.compare(i, ref), [i, REF]), 'strict CSP off'));
    await page.close();
  });
});

describe('call inside an iframe', () => {
  it('filters the camera of a page in an iframe', async () => {
    await settings({ mode: 'style', style: 'posterize' });
    const page = await browser.context.newPage();
    opened.add(page);
    await page.goto(`${server.url}/frame.html`);
    const frame = await eventually(() => page.frames().find((f) => f.url().endsWith('/index.html')) ?? false);
    await frame.waitForFunction(() => window.gumTest);
    const i = await frame.evaluate(() => gumTest.open());
    assertPosterized(await frame.evaluate(([i, ref]) => gumTest.compare(i, ref), [i, REF]), 'iframe');
    await page.close();
  });
});

describe('background tab', () => {
  it('keeps frames flowing at the camera rate while the page is hidden', async () => {
    await settings({ mode: 'style', style: 'posterize' });
    const page = await openPage();
    const i = await page.evaluate(() => gumTest.open());
    const visible = await page.evaluate((i) => gumTest.count(i, 2000), i);
    // Headless pages are always "visible"; emulate the page-side state a hidden tab has.
    await page.evaluate(() => {
      Object.defineProperty(document, 'visibilityState', { get: () => 'hidden', configurable: true });
      Object.defineProperty(document, 'hidden', { get: () => true, configurable: true });
      document.dispatchEvent(new Event('visibilitychange'));
    });
    const hidden = await page.evaluate((i) => gumTest.count(i, 2000), i);
    assert.ok(hidden.frames >= 0.9 * visible.frames, `hidden ${hidden.frames} vs visible ${visible.frames} frames`);
    assert.ok(hidden.monotonic);
    await page.close();
  });
});

describe('demo call', () => {
  it('sends the filtered camera through a WebRTC loopback', async () => {
    await settings({ mode: 'style', style: 'posterize' });
    const page = await browser.context.newPage();
    opened.add(page);
    await page.goto(`${server.url}/demo/index.html?autostart`);
    await page.waitForFunction(() => window.demoCall?.remoteTrack, null, { timeout: 20000 });
    const stats = await eventually(async () => {
      const s = await page.evaluate(() => document.getElementById('stats').textContent);
      assert.match(s, /received 640×360/);
      return s;
    }, 15000);
    assert.match(stats, /frames decoded/);
    await page.close();
  });
});

describe('popup', () => {
  /** The call tab's id, found as the popup finds it (the frame that answers with the page's address). */
  async function tabOf(page) {
    const p = await browser.context.newPage();
    try {
      await p.goto(`chrome-extension://${browser.extensionId}/popup.html`);
      return await p.evaluate(async (url) => {
        for (const t of await chrome.tabs.query({})) {
          const r = await chrome.tabs.sendMessage(t.id, { ns: 'brushcam', t: 'status' }).catch(() => undefined);
          if (r?.url === url) return t.id;
        }
        return null;
      }, page.url());
    } finally {
      await p.close();
    }
  }

  it('a style picked by its thumbnail\'s name is on the call; keys move through the gallery; status in words; posterize under Advanced', async () => {
    await settings({ mode: 'off', mirrorPreview: false, style: 'starry_night', backend: 'wasm' });
    const page = await openPage();
    const i = await page.evaluate(() => gumTest.open());
    await eventually(async () => (await extensionStatus(page)).pipelines.length === 1);
    const tabId = await tabOf(page);
    assert.ok(tabId, 'found the call tab');
    const popup = await browser.context.newPage();
    opened.add(popup);
    await popup.goto(`chrome-extension://${browser.extensionId}/popup.html?tab=${tabId}`);
    await popup.waitForFunction(() => document.getElementById('site').textContent === '127.0.0.1');
    await popup.getByRole('status').filter({ hasText: 'No filter chosen' }).waitFor({ timeout: 10000 });

    // The gallery: every trained style of models/manifest.json as a named radio button with its
    // picture, the diagnostic shader not among them.
    const gallery = popup.getByRole('radiogroup', { name: 'Painting style' });
    const names = await gallery.getByRole('radio').evaluateAll((rs) => rs.map((r) => r.getAttribute('aria-label')));
    assert.ok(names.includes('The Starry Night by Vincent van Gogh'), `gallery names: ${names}`);
    assert.ok(!names.some((n) => /posterize/i.test(n)), `the diagnostic shader is not a painting style: ${names}`);
    const pictures = await gallery.locator('img').evaluateAll((imgs) => imgs.map((im) => im.complete && im.naturalWidth));
    assert.deepEqual(pictures, names.map(() => 128), 'every tile shows its 128 px thumbnail');

    // Pick one by its name: the call gets that network.
    await gallery.getByRole('radio', { name: 'The Scream by Edvard Munch' }).check();
    const st = await eventually(async () => {
      const p = (await extensionStatus(page)).pipelines.at(-1);
      return p.filter?.id === 'the_scream' && p.state === 'ok' && p.filterMs !== null ? p : false;
    }, 90000);
    assert.match(st.backend, /^tfjs-/);
    await new Promise((r) => setTimeout(r, 1500));
    const r = await page.evaluate(([i, ref]) => gumTest.compare(i, ref), [i, REF]);
    assert.ok(r.diffRaw > 12, `the call shows the painting, not the camera (mean |diff| ${r.diffRaw.toFixed(1)})`);
    assert.ok(await popup.getByRole('radio', { name: 'The Scream by Edvard Munch' }).isChecked());
    assert.ok(await popup.getByRole('radio', { name: 'Painting style' }).isChecked(), 'the mode followed the pick');
    await popup.getByRole('status').filter({ hasText: /^Painting at \d+ px, \d+ fps$/ }).waitFor({ timeout: 15000 });

    // Keyboard: the arrow key moves the pick to the next tile.
    await popup.getByRole('radio', { name: 'The Scream by Edvard Munch' }).focus();
    await popup.keyboard.press('ArrowRight');
    const next = names[names.indexOf('The Scream by Edvard Munch') + 1];
    assert.ok(await popup.getByRole('radio', { name: next }).isChecked(), `${next} after ArrowRight`);
    await eventually(async () => (await extensionStatus(page)).pipelines.at(-1).filter?.id !== 'the_scream', 10000);

    // The diagnostic shader, under "Advanced".
    await popup.getByText('Advanced').click();
    await popup.getByRole('checkbox', { name: /posterize/ }).check();
    await eventually(async () => assertPosterized(await page.evaluate(([i, ref]) => gumTest.compare(i, ref), [i, REF]), 'the diagnostic filter'), 30000);
    await popup.waitForFunction(() => /fps of/.test(document.getElementById('fps').textContent), null, { timeout: 10000 });
    assert.match(await popup.textContent('#placement'), /worker/);
    const src = await popup.waitForFunction(() => {
      const img = document.getElementById('preview');
      return !img.hidden && img.src.startsWith('data:image/jpeg') && img.naturalWidth > 0 ? img.src : false;
    }, null, { timeout: 10000 });
    assert.ok((await src.jsonValue()).length > 500);
    assert.equal(await popup.$eval('#preview', (img) => img.classList.contains('mirrored')), false, 'not mirrored by default');

    await popup.getByRole('checkbox', { name: 'On for 127.0.0.1' }).uncheck();
    await eventually(async () => assertRaw(await page.evaluate(([i, ref]) => gumTest.compare(i, ref), [i, REF]), 'site switched off in the popup'));
    await popup.getByRole('status').filter({ hasText: 'This site is excluded' }).waitFor({ timeout: 5000 });
    await popup.getByRole('checkbox', { name: 'On for 127.0.0.1' }).check();
    await settings({ backend: 'auto', style: 'posterize' });
  });
});
