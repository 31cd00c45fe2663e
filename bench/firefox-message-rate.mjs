// Firefox: the frames a page's <video> presents (requestVideoFrameCallback) before and after the
// page talks to the extension through the test build's hook, for Brushcam's output track (mode
// off) and for the page's own canvas → captureStream → <video> (no Brushcam in that path).
// `node bench/firefox-message-rate.mjs [--seconds 4] [--steps settings,status,status] [--dist]`
// (after `npm run build`). --dist runs dist/firefox without the hooks (steps wait, noop, evalwait only).
import { launchFirefox, FIREFOX_DIST, hookRequest, setSettings, extensionStatus, requestPreview } from '../test/support/firefox.mjs';
import { serve } from '../test/support/server.mjs';

const arg = (name, def) => {
  const k = process.argv.indexOf(`--${name}`);
  return k > 0 ? process.argv[k + 1] : def;
};
const seconds = Number(arg('seconds', 4));
const steps = arg('steps', 'settings,status,preview').split(',').filter(Boolean);
const dist = process.argv.includes('--dist');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const server = await serve();
const ff = await launchFirefox(dist ? { extension: FIREFOX_DIST } : {});
const rows = [];
try {
  const page = await ff.browser.newPage();
  await page.goto(`${server.url}/index.html`);
  await page.waitForFunction(() => window.gumTest);
  const i = await page.evaluate(() => gumTest.open({ video: { width: 640, height: 360, frameRate: 30 } }));
  // The page's own canvas, drawn 30 times a second by a timer, captured and played.
  await page.evaluate(() => {
    const c = document.createElement('canvas');
    c.width = 320;
    c.height = 180;
    const x = c.getContext('2d');
    let n = 0;
    setInterval(() => {
      x.fillStyle = `hsl(${(n++ * 7) % 360} 80% 50%)`;
      x.fillRect(0, 0, 320, 180);
    }, 33);
    window.__own = new MediaStream([c.captureStream().getVideoTracks()[0]]);
  });
  const measure = async (label) => {
    const r = await page.evaluate(async (i, ms) => {
      const rate = async (stream) => {
        const v = document.createElement('video');
        v.muted = true;
        v.srcObject = stream;
        document.body.append(v);
        await v.play();
        let n = 0;
        const loop = () => {
          n++;
          v.requestVideoFrameCallback(loop);
        };
        v.requestVideoFrameCallback(loop);
        let ticks = 0;
        const t = setInterval(() => ticks++, 10);
        let raf = 0;
        const rl = () => {
          raf++;
          requestAnimationFrame(rl);
        };
        requestAnimationFrame(rl);
        await new Promise((res) => setTimeout(res, ms));
        clearInterval(t);
        v.remove();
        return { fps: n / (ms / 1000), timer10msPerS: ticks / (ms / 1000), rafPerS: raf / (ms / 1000) };
      };
      const [brushcam, own] = await Promise.all([rate(new MediaStream([gumTest.track(i)])), rate(window.__own)]);
      return { brushcam, own };
    }, i, seconds * 1000);
    const row = { step: label, brushcamFps: r.brushcam.fps, ownCanvasFps: r.own.fps, timer10msPerS: r.own.timer10msPerS, rafPerS: r.own.rafPerS };
    rows.push(row);
    console.log(`${label.padEnd(28)} Brushcam output ${row.brushcamFps.toFixed(1)} fps, own canvas ${row.ownCanvasFps.toFixed(1)} fps, 10-ms timer ${row.timer10msPerS.toFixed(0)}/s, rAF ${row.rafPerS.toFixed(0)}/s`);
  };
  await sleep(2000);
  await measure('before any message');
  {
    for (const s of steps) {
      if (dist && !['wait', 'noop', 'evalwait', 'silent', 'fakereply'].includes(s)) throw new Error(`--dist: ${s} needs the test build's hook`);
      if (s === 'settings') await setSettings(page, { mode: 'off' });
      else if (s === 'status') await extensionStatus(page);
      else if (s === 'preview') await requestPreview(page);
      else if (s === 'ping' || s === 'storage' || s === 'echo') await hookRequest(page, s);
      else if (s === 'wait') await sleep(5000);
      // a window.postMessage round trip that no extension script answers (the hook's shape, another ns)
      else if (s === 'noop') await page.evaluate(() => new Promise((r) => { addEventListener('message', () => r(), { once: true }); postMessage({ ns: 'nobody' }, '*'); }));
      // a hook message the content script receives and leaves unanswered
      else if (s === 'silent') await page.evaluate(() => new Promise((r) => { postMessage({ ns: 'brushcam-test', id: 1, t: 'silent' }, '*'); setTimeout(r, 300); }));
      // the page's own message of the reply's shape, from the page (no content script involved)
      else if (s === 'fakereply') await page.evaluate(() => new Promise((r) => { postMessage({ ns: 'brushcam-test', t: 'reply', id: 1, result: true, error: null }, '*'); setTimeout(r, 300); }));
      // an evaluate that awaits a timer
      else if (s === 'evalwait') await page.evaluate(() => new Promise((r) => setTimeout(r, 500)));
      else throw new Error(`unknown step ${s} (expected settings, status, preview, ping, storage, echo, silent, fakereply, wait, noop or evalwait)`);
      await sleep(1000);
      await measure(`after ${s}`);
    }
  }
} finally {
  await ff.close();
  await server.close();
}
console.log(JSON.stringify(rows));
