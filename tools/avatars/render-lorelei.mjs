#!/usr/bin/env node
// The illustrated-avatar training domain: DiceBear "Lorelei" avatars (design CC0 1.0, code MIT;
// node_modules/@dicebear/lorelei/LICENSE), rendered in Chromium and aligned exactly as the run
// time aligns a camera face: BlazeFace (the shipped model) finds the eyes, cropFromEyes gives the
// crop, extractCrop cuts it (src/engine/avatar/). Avatars BlazeFace finds no face in are skipped.
//
//   node tools/avatars/render-lorelei.mjs [--n 2000] [--size 128] [--out build/avatars/lorelei]
// (after `npm run build`, which makes build/ml-testkit.js). Seeds are lorelei-<i>: the set is the
// same on every machine.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createAvatar } from '@dicebear/core';
import * as lorelei from '@dicebear/lorelei';
import { launch } from '../../test/support/browser.mjs';
import { root } from '../../test/support/fixtures.mjs';
import { serve } from '../../test/support/server.mjs';

const arg = (k, d) => (process.argv.includes(`--${k}`) ? process.argv[process.argv.indexOf(`--${k}`) + 1] : d);
const N = Number(arg('n', 2000));
const SIZE = Number(arg('size', 128));
const out = join(root, arg('out', 'build/avatars/lorelei'));
// Backgrounds: light, like a room behind a face; the avatar's own palette varies with the seed.
const BACKGROUNDS = ['b6e3f4', 'c0aede', 'd1d4f9', 'ffd5dc', 'ffdfbf', 'e0e0e0', 'f5f0e6', 'cfe8d5'];

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const server = await serve({ '/': join(root, 'test/pages'), '/build/': join(root, 'build'), '/node_modules/': join(root, 'node_modules'), '/models/': join(root, 'models') });
const browser = await launch({ extension: null });
let kept = 0;
try {
  const page = await browser.context.newPage();
  await page.goto(`${server.url}/index.html`);
  await page.evaluate(async () => {
    const kit = await import('/build/ml-testkit.js');
    window.kit = kit;
    window.finder = await kit.FaceFinder.create({ wasm: '/node_modules/@mediapipe/tasks-vision/wasm', model: '/models/face/blaze_face_short_range.tflite' });
    // the avatar in a 640×640 frame (a little room around the head, as a camera has)
    window.framed = async (svg) => {
      const img = new Image();
      img.src = `data:image/svg+xml;base64,${btoa(unescape(encodeURIComponent(svg)))}`;
      await img.decode();
      const c = new OffscreenCanvas(640, 640);
      const x = c.getContext('2d');
      x.fillStyle = '#' + svg.match(/fill="#([0-9a-f]{6})"/)?.[1];
      x.fillRect(0, 0, 640, 640);
      x.drawImage(img, 64, 64, 512, 512);
      return c.transferToImageBitmap();
    };
  });
  const svgOf = (i) => createAvatar(lorelei, { seed: `lorelei-${i}`, size: 512, backgroundColor: [BACKGROUNDS[i % BACKGROUNDS.length]] }).toString();
  const eyes = await page.evaluate(async (svgs) => {
    const found = [];
    for (const svg of svgs) {
      const bmp = await framed(svg);
      const f = finder.detect(bmp);
      bmp.close();
      if (f.length === 1) found.push([...f[0].eyes].sort((a, b) => a.x - b.x));
    }
    const med = (a) => [...a].sort((p, q) => p - q)[a.length >> 1];
    return { n: found.length, left: { x: med(found.map((e) => e[0].x)), y: med(found.map((e) => e[0].y)) }, right: { x: med(found.map((e) => e[1].x)), y: med(found.map((e) => e[1].y)) } };
  }, Array.from({ length: 200 }, (_, i) => svgOf(i)));
  if (eyes.n < 50) throw new Error(`BlazeFace found a face in only ${eyes.n} of 200 Lorelei avatars: no alignment`);
  console.log(`eyes (median of ${eyes.n} detections, 640x640 frame): ${JSON.stringify(eyes)}`);
  for (let start = 0; start < N; start += 50) {
    const svgs = [];
    for (let i = start; i < Math.min(N, start + 50); i++) svgs.push({ i, svg: svgOf(i) });
    const got = await page.evaluate(async ([svgs, SIZE, eyes]) => {
      const res = [];
      const crop = kit.cropFromEyes(eyes.left, eyes.right);
      for (const { i, svg } of svgs) {
        const bmp = await framed(svg);
        const data = kit.extractCrop(bmp, crop, SIZE);
        bmp.close();
        const o = new OffscreenCanvas(SIZE, SIZE);
        o.getContext('2d').putImageData(data, 0, 0);
        const blob = await o.convertToBlob({ type: 'image/png' });
        const bytes = new Uint8Array(await blob.arrayBuffer());
        let s = '';
        for (const b of bytes) s += String.fromCharCode(b);
        res.push({ i, png: btoa(s) });
      }
      return res;
    }, [svgs, SIZE, eyes]);
    for (const { i, png } of got) writeFileSync(join(out, `lorelei-${String(i).padStart(5, '0')}.png`), Buffer.from(png, 'base64'));
    kept += got.length;
  }
} finally {
  await browser.close();
  await server.close();
}
console.log(`${kept} Lorelei avatars -> ${out}`);
