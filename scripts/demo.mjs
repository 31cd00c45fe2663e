#!/usr/bin/env node
// Brushcam demo: Chromium with the built extension, a local call page (camera → WebRTC loopback).
//
//   npm start                                    window with the demo call (headless when no display)
//   npm run demo -- --headless --input clip.mp4 --mode style --style posterize --out demo-out/clip.webm
//   npm run demo -- --headless --mode style --out demo-out/frames/ --frames 60     (PNG frames)
//
// Options: --input <video> (fake camera; default: a clip from ../shared/data or a test pattern),
// --mode off|style|anime, --style <id>, --avatar <id>, --presentation face-swap|full-avatar|puppet,
// --backdrop blur|colour|scene and --backdrop-colour '#rrggbb' (full avatar),
// --size 640x360, --seconds N (recording length), --clip-seconds N (how much of the clip loops as the camera), --out <file.webm | dir/>, --frames N, --headless,
// --all-frames (with --out dir/: every output frame, named by the camera frame it was made from).
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { extensionStatus, launch, setSettings, waitForFilter } from '../test/support/browser.mjs';
import { captureInPage, fetchFrames, identify, openY4m, writeIndexed } from '../bench/live-frames.mjs';
import { clipCamera, root, stillCamera } from '../test/support/fixtures.mjs';
import { serve } from '../test/support/server.mjs';

function parseArgs(argv) {
  const o = { headless: false, mode: 'style', style: 'starry_night', 'clip-seconds': 20, avatar: 'anime', presentation: 'face-swap', backdrop: 'blur', 'backdrop-colour': '#6b8fb3', size: '640x360', seconds: 5, frames: 30 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--headless') o.headless = true;
    else if (a === '--all-frames') o.allFrames = true;
    else if (a.startsWith('--')) {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      o[a.slice(2)] = v;
    }
  }
  if (!['off', 'style', 'anime'].includes(o.mode)) throw new Error(`--mode must be off, style or anime, got '${o.mode}'`);
  const m = /^(\d+)x(\d+)$/.exec(o.size);
  if (!m) throw new Error(`--size must look like 640x360, got '${o.size}'`);
  o.width = Number(m[1]);
  o.height = Number(m[2]);
  o.seconds = Number(o.seconds);
  o.frames = Number(o.frames);
  o.clipSeconds = Number(o['clip-seconds']);
  if (!(o.clipSeconds > 0)) throw new Error(`--clip-seconds must be a positive number, got '${o['clip-seconds']}'`);
  return o;
}

const o = parseArgs(process.argv.slice(2));
if (!existsSync(join(root, 'dist/chrome/manifest.json'))) {
  console.error('dist/chrome is missing: run `npm run build` first (npm start does it for you).');
  process.exit(1);
}
if (!o.headless && !process.env.DISPLAY) {
  if (process.argv.length === 2) {
    // `npm start` without a display: the showcase (side-by-side video and contact sheet).
    console.log('No display found: writing the showcase to demo-out/showcase/ (scripts/showcase.mjs).');
    const { spawnSync } = await import('node:child_process');
    process.exit(spawnSync(process.execPath, [join(root, 'scripts/showcase.mjs')], { stdio: 'inherit' }).status ?? 1);
  }
  console.log('No display found: running headless. Output goes to demo-out/.');
  o.headless = true;
  o.out ??= 'demo-out/';
}

// A person talking at the camera (a LivePortrait example clip of ../shared/data/video/people).
const defaultClip = resolve(root, '../shared/data/video/people/d3.mp4');
const camera = o.input
  ? clipCamera(resolve(o.input), { width: o.width, height: o.height, seconds: o.clipSeconds })
  : existsSync(defaultClip)
    ? clipCamera(defaultClip, { width: o.width, height: o.height, seconds: o.clipSeconds })
    : stillCamera(o.width, o.height).y4m;

const server = await serve();
const browser = await launch({ camera, headless: o.headless });
await setSettings(browser.context, browser.extensionId, {
  mode: o.mode, style: o.style, avatar: o.avatar, presentation: o.presentation,
  backdrop: o.backdrop, backdropColour: o['backdrop-colour'],
});
const page = await browser.context.newPage();
page.on('pageerror', (e) => console.error('page error:', e.message));
await page.goto(`${server.url}/demo/index.html?autostart&w=${o.width}&h=${o.height}`);
await page.waitForFunction(() => window.demoCall?.remoteTrack, null, { timeout: 20000 });

/**
 * --all-frames: every output frame with the camera frame it was made from. A second page on
 * another site (localhost, where Brushcam is switched off) reads the raw camera at the same
 * time; its frames are matched to the clip and share timestamps with the outputs.
 */
async function indexedFrames(out) {
  if (!o.input && !existsSync(defaultClip)) throw new Error('--all-frames needs a clip as the camera (--input)');
  const clip = openY4m(camera);
  await setSettings(browser.context, browser.extensionId, { disabledSites: ['localhost'] });
  const rawPage = await browser.context.newPage();
  await rawPage.goto(`${server.url.replace('127.0.0.1', 'localhost')}/demo/index.html?autostart&w=${o.width}&h=${o.height}`);
  await rawPage.waitForFunction(() => window.demoCall?.localTrack, null, { timeout: 20000 });
  await page.bringToFront();
  const st = await waitForFilter(browser.context, browser.extensionId, page.url());
  await page.waitForTimeout(1500);
  const rawRun = rawPage.evaluate(captureInPage, { source: 'demo', n: 100000, maxMs: o.seconds * 1000 + 10000, luma: true });
  const n = await page.evaluate(captureInPage, { source: 'demo', n: o.frames, maxMs: o.seconds * 1000 });
  await rawPage.evaluate(() => (window.__liveStop = true));
  await rawRun;
  const after = (await extensionStatus(browser.context, browser.extensionId, page.url()))?.pipelines?.at(-1) ?? null;
  const raw = await fetchFrames(rawPage);
  const frames = await fetchFrames(page);
  const indexOf = identify(raw, clip);
  const { list, unpaired } = writeIndexed(out, frames, indexOf, {
    clip: camera, size: [o.width, o.height], mode: o.mode, style: o.style, backend: after?.backend ?? st.backend ?? null,
    rawFrames: raw.length, worstMatch: Math.max(...[...indexOf.values()].map((v) => v.d)),
  });
  clip.close();
  await rawPage.close();
  const span = list.length ? list.at(-1).index - list[0].index + 1 : 0;
  console.log(`wrote ${list.length} output frames (camera frames ${list[0]?.index}..${list.at(-1)?.index}, ${span} in all; ${unpaired} unpaired) to ${out}, named by camera frame`);
}

if (!o.headless) {
  console.log('Open the Brushcam popup from the toolbar to change the filter. Ctrl-C to quit.');
  await new Promise((r) => process.on('SIGINT', r));
} else {
  const out = resolve(o.out ?? 'demo-out/');
  const st = await waitForFilter(browser.context, browser.extensionId, page.url());
  console.log(`filter running: ${st.backend ?? 'passthrough'} in the ${st.placement}, ${st.filterMs?.toFixed(0) ?? 0} ms per frame`);
  await page.waitForTimeout(1500);
  if (out.endsWith('.webm')) {
    mkdirSync(dirname(out), { recursive: true });
    const b64 = await page.evaluate(async (ms) => {
      const rec = new MediaRecorder(new MediaStream([window.demoCall.remoteTrack]), { mimeType: 'video/webm;codecs=vp8' });
      const chunks = [];
      rec.ondataavailable = (e) => chunks.push(e.data);
      rec.start(250);
      await new Promise((r) => setTimeout(r, ms));
      await new Promise((r) => { rec.onstop = r; rec.stop(); });
      const buf = new Uint8Array(await new Blob(chunks).arrayBuffer());
      let s = '';
      for (let i = 0; i < buf.length; i += 0x8000) s += String.fromCharCode(...buf.subarray(i, i + 0x8000));
      return btoa(s);
    }, o.seconds * 1000);
    writeFileSync(out, Buffer.from(b64, 'base64'));
    console.log(`wrote ${out} (${o.seconds} s of what the other side received)`);
  } else if (o.allFrames) {
    mkdirSync(out, { recursive: true });
    await indexedFrames(out);
  } else {
    mkdirSync(out, { recursive: true });
    // Lossless frames of the processed track itself (before the codec), for evaluation.
    const frames = await page.evaluate(async (n) => {
      const reader = new MediaStreamTrackProcessor({ track: window.demoCall.localTrack.clone() }).readable.getReader();
      const out = [];
      const c = new OffscreenCanvas(2, 2);
      const ctx = c.getContext('2d');
      while (out.length < n) {
        const { value: f, done } = await reader.read();
        if (done) break;
        c.width = f.displayWidth;
        c.height = f.displayHeight;
        ctx.drawImage(f, 0, 0);
        const ts = f.timestamp;
        f.close();
        const buf = new Uint8Array(await (await c.convertToBlob({ type: 'image/png' })).arrayBuffer());
        let s = '';
        for (let i = 0; i < buf.length; i += 0x8000) s += String.fromCharCode(...buf.subarray(i, i + 0x8000));
        out.push({ ts, png: btoa(s) });
      }
      await reader.cancel();
      return out;
    }, o.frames);
    frames.forEach((f, i) => writeFileSync(join(out, `frame-${String(i).padStart(4, '0')}.png`), Buffer.from(f.png, 'base64')));
    console.log(`wrote ${frames.length} frames to ${out}`);
  }
  await page.screenshot({ path: join(out.endsWith('.webm') ? dirname(out) : out, 'screenshot.png') });
  console.log(`screenshot: ${join(out.endsWith('.webm') ? dirname(out) : out, 'screenshot.png')}`);
}
await browser.close();
await server.close();
