#!/usr/bin/env node
// Crop tracks of the anime avatar on the people clips: BlazeFace (the shipped model, through
// tasks-vision, as the engine runs it) on every frame, fed to the extension's CropTracker twice,
// with its One Euro smoothing and without (cut-offs so high the filter passes the input through).
// Writes build/anime-tracks.json for `training/eval_anime.py` (crop jitter, and the translator's
// temporal error inside the face box along each track) and prints the jitter.
//
//   node bench/anime-tracks.mjs [--frames 150] [--clips d0,d3,...] [--one-euro 0.3,0.01] [--out F]
// (after `npm run build`)
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { launch } from '../test/support/browser.mjs';
import { root } from '../test/support/fixtures.mjs';
import { serve } from '../test/support/server.mjs';

const arg = (k, d) => (process.argv.includes(`--${k}`) ? process.argv[process.argv.indexOf(`--${k}`) + 1] : d);
const FRAMES = Number(arg('frames', 150));
// --one-euro minCutoff,beta: other smoothing for the "smoothed" track than the tracker's defaults
const oneEuro = arg('one-euro', null)?.split(',').map(Number);
const smoothOpts = oneEuro ? { minCutoff: oneEuro[0], beta: oneEuro[1] } : {};
const PEOPLE = join(root, '../shared/data/video/people');
const clips = arg('clips', null)?.split(',') ?? readdirSync(PEOPLE).filter((f) => f.endsWith('.mp4')).map((f) => basename(f, '.mp4')).sort();
const out = join(root, 'build/anime-tracks');

const fps = (clip) => {
  const r = execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v', '-show_entries', 'stream=r_frame_rate', '-of', 'csv=p=0', join(PEOPLE, `${clip}.mp4`)]).toString().trim();
  const [a, b] = r.split('/').map(Number);
  return a / (b || 1);
};
for (const clip of clips) {
  rmSync(join(out, clip), { recursive: true, force: true });
  mkdirSync(join(out, clip), { recursive: true });
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-i', join(PEOPLE, `${clip}.mp4`), '-frames:v', String(FRAMES), join(out, clip, '%04d.png')]);
}

const server = await serve({ '/': join(root, 'test/pages'), '/build/': join(root, 'build'), '/node_modules/': join(root, 'node_modules'), '/models/': join(root, 'models') });
const browser = await launch({ extension: null });
const doc = { frames: FRAMES, smoothing: oneEuro ? { minCutoff: oneEuro[0], beta: oneEuro[1] } : 'CropTracker defaults', detector: 'models/face/blaze_face_short_range.tflite (every frame)', clips: {} };
try {
  for (const clip of clips) {
    const n = readdirSync(join(out, clip)).length;
    const rate = fps(clip);
    // a fresh page per clip: tasks-vision's wasm module is not reloaded into one page many times
    const page = await browser.context.newPage();
    page.on('console', (m) => { if (m.type() === 'error') console.error(`page: ${m.text()}`); });
    page.on('pageerror', (e) => console.error(`page: ${e.message}`));
    await page.goto(`${server.url}/index.html`);
    doc.clips[clip] = await page.evaluate(async ([clip, n, rate, smoothOpts]) => {
      const { FaceFinder, CropTracker } = await import('/build/ml-testkit.js');
      const finder = await FaceFinder.create({ wasm: '/node_modules/@mediapipe/tasks-vision/wasm', model: '/models/face/blaze_face_short_range.tflite' });
      let smooth = null, raw = null;
      const series = { faces: [], smooth: [], raw: [] };
      const box = (c) => (c ? { cx: +c.cx.toFixed(3), cy: +c.cy.toFixed(3), size: +c.size.toFixed(3), roll: +c.roll.toFixed(5), state: c.state } : null);
      let size = null;
      for (let i = 1; i <= n; i++) {
        const bmp = await createImageBitmap(await (await fetch(`/build/anime-tracks/${clip}/${String(i).padStart(4, '0')}.png`)).blob());
        if (!smooth) {
          size = [bmp.width, bmp.height];
          smooth = new CropTracker(bmp.width, bmp.height, smoothOpts);
          raw = new CropTracker(bmp.width, bmp.height, { minCutoff: 1e9, beta: 0, rollMinCutoff: 1e9, rollBeta: 0 });
        }
        const faces = finder.detect(bmp);
        const t = ((i - 1) * 1000) / rate;
        series.faces.push(faces.length);
        series.smooth.push(box(smooth.update(faces, t)));
        series.raw.push(box(raw.update(faces, t)));
        bmp.close();
      }
      finder.close();
      return { fps: rate, size, ...series };
    }, [clip, n, rate, smoothOpts]);
    await page.close();
  }
} finally {
  await browser.close();
  await server.close();
}
const file = arg('out', join(out, 'tracks.json'));
writeFileSync(file, JSON.stringify(doc));
console.log(`wrote ${file}: ${clips.map((c) => `${c} ${doc.clips[c].faces.filter((k) => k > 0).length}/${doc.clips[c].faces.length} frames with a face`).join(', ')}`);
