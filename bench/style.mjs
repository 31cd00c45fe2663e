#!/usr/bin/env node
// Speed of every shipped style network against the full-size reference ReCoNet, same run,
// same backend, in headless Chromium:   npm run bench:style [-- --backends wasm,webgl --reps 5]
// Prints ms per frame (median), GFLOP, and the speed-up over the reference; writes
// bench/results/<date>-<host>-style.json.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, hostname } from 'node:os';
import { join } from 'node:path';
import { launch } from '../test/support/browser.mjs';
import { root } from '../test/support/fixtures.mjs';
import { serve } from '../test/support/server.mjs';

const arg = (k, d) => (process.argv.includes(`--${k}`) ? process.argv[process.argv.indexOf(`--${k}`) + 1] : d);
const backends = arg('backends', 'wasm').split(',');
const reps = Number(arg('reps', 5));
const refReps = Number(arg('ref-reps', 1));
const sizes = arg('sizes', '640x360,1280x720').split(',').map((s) => s.split('x').map(Number));
const manifest = JSON.parse(readFileSync(join(root, 'models/manifest.json'), 'utf8'));
const styles = manifest.models.filter((m) => m.kind === 'style' && m.folder).map((m) => ({ id: m.id, url: `/models/${m.folder}/` }));
if (!styles.length) throw new Error('models/manifest.json lists no trained style models');

const server = await serve({ '/': root });
const browser = await launch({ extension: null, args: ['--enable-unsafe-webgpu'] });
const page = await browser.context.newPage();
page.on('pageerror', (e) => console.error('page error:', e.message));
await page.goto(`${server.url}/bench/pages/style.html`);
await page.waitForFunction(() => window.styleBench, null, { timeout: 60000 });
const rows = [];
for (const backend of backends) {
  const r = await page.evaluate((o) => window.styleBench(o), { backend, sizes, styles, reps, refReps });
  rows.push(...r);
}
await browser.close();
await server.close();

console.log('model                 backend  size       GFLOP    ms/frame   speed-up vs reference');
for (const r of rows) {
  const ref = rows.find((x) => x.model === 'reconet-reference' && x.backend === r.backend && x.size === r.size);
  console.log(`${r.model.padEnd(21)} ${r.backend.padEnd(8)} ${r.size.padEnd(10)} ${r.gflop.toFixed(2).padStart(7)} ${r.median.toFixed(1).padStart(10)}   ${(ref.median / r.median).toFixed(1)}x`);
}
const dir = join(root, 'bench/results');
mkdirSync(dir, { recursive: true });
const file = join(dir, `${new Date().toISOString().slice(0, 10)}-${hostname()}-style.json`);
writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), machine: { cpus: cpus().length, model: cpus()[0]?.model }, reps, refReps, rows }, null, 2) + '\n');
console.log(`wrote ${file}`);
