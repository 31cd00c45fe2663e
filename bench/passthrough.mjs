#!/usr/bin/env node
// Passthrough overhead: the camera's raw track and the pipeline's output of the same camera,
// read side by side in one page; overhead = arrival(output, ts) − arrival(raw, ts) per frame.
//   npm run bench:passthrough [-- --seconds 20]
// Prints a table and writes bench/results/<date>-passthrough.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { hostname, cpus } from 'node:os';
import { join } from 'node:path';
import { launch } from '../test/support/browser.mjs';
import { clipCamera, root } from '../test/support/fixtures.mjs';
import { serve } from '../test/support/server.mjs';

const seconds = Number(process.argv[process.argv.indexOf('--seconds') + 1] || 20);
const clip = join(root, '../shared/data/video/scenes/motion.mov');
const server = await serve({ '/': join(root, 'bench/pages'), '/build/': join(root, 'build') });
const rows = [];
for (const [w, h] of [[640, 360], [1280, 720]]) {
  const camera = clipCamera(clip, { width: w, height: h, seconds: 20 });
  const browser = await launch({ camera, extension: null });
  const page = await browser.context.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(`${server.url}/passthrough.html`);
  await page.waitForFunction(() => window.brushcamBench);
  for (const worker of [true, false]) {
    for (const hidden of [false, true]) {
      if (hidden) {
        await page.evaluate(() => {
          Object.defineProperty(document, 'visibilityState', { get: () => 'hidden', configurable: true });
          Object.defineProperty(document, 'hidden', { get: () => true, configurable: true });
          document.dispatchEvent(new Event('visibilitychange'));
        });
      }
      const r = await page.evaluate((o) => window.brushcamBench.runPassthrough(o), { width: w, height: h, seconds, worker });
      rows.push({ size: `${w}x${h}`, hidden, ...r });
      console.log(`${w}x${h} ${r.placement.padEnd(11)} ${hidden ? 'hidden ' : 'visible'}  camera ${r.cameraFps.toFixed(1)} fps  output ${r.outputFps.toFixed(1)} fps (${(r.outputFps / r.cameraFps).toFixed(3)})  overhead median ${r.overheadMs.median.toFixed(2)} ms p95 ${r.overheadMs.p95.toFixed(2)} ms over ${r.overheadMs.matched} frames`);
    }
    await page.reload();
    await page.waitForFunction(() => window.brushcamBench);
  }
  await browser.close();
}
await server.close();
const dir = join(root, 'bench/results');
mkdirSync(dir, { recursive: true });
const file = join(dir, `${new Date().toISOString().slice(0, 10)}-${hostname()}-passthrough.json`);
writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), machine: { cpus: cpus().length, model: cpus()[0]?.model }, seconds, rows }, null, 2) + '\n');
console.log(`wrote ${file}`);
