#!/usr/bin/env node
// Where a style frame's time goes at 96, 160, 256 and 320 px (long side; output 640×360):
// per stage (page-side scaling, transfer to the engine, upload, network, download, upscale,
// transfer back) and per kernel, with the extension's runtime in headless Chromium (WASM by
// default). Writes bench/results/<date>-<host>-kernels.json and prints the tables.
//
//   npm run bench:kernels [-- --styles udnie,udnie/tiny,monet --sides 96,160,256,320 --reps 15 --backend wasm]
//   npm run bench:kernels -- --styles anime/anime --sides 128 --out 128x128      (the avatar's translator)
//   npm run bench:kernels -- --threads --tag threads   (WASM threads, as in Chromium's offscreen engine)
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, hostname, loadavg } from 'node:os';
import { join } from 'node:path';
import { launch } from '../test/support/browser.mjs';
import { root } from '../test/support/fixtures.mjs';
import { serve } from '../test/support/server.mjs';

const arg = (k, d) => (process.argv.includes(`--${k}`) ? process.argv[process.argv.indexOf(`--${k}`) + 1] : d);
// Each network twice: as the runtime runs it, and the baseline (conv, bias and activation as
// separate kernels, nothing folded: the runtime before its compiled plan), same run.
const styles = arg('styles', 'udnie/tiny,udnie,monet').split(',').flatMap((s) => {
  const [, tier] = s.split('/');
  const url = s.startsWith('anime/') ? `/models/${s}/` : `/models/style/${s}/`;
  return [{ id: s, tier: tier ?? null, url }, { id: `${s} (before)`, tier: tier ?? null, url, baseline: true }];
});
const outSize = arg('out', '640x360').split('x').map(Number);
const sides = arg('sides', '96,160,256,320').split(',').map(Number);
const reps = Number(arg('reps', 15));
const backend = arg('backend', 'wasm');
// --threads: the page is cross-origin isolated and the WASM backend runs its threads, as in
// Chromium's offscreen engine (thread files from dist/chrome/wasm, as the extension ships them).
const threads = process.argv.includes('--threads');

const load0 = loadavg()[0];
const server = await serve({ '/': root }, { isolated: threads });
const b = await launch({ extension: null, args: ['--enable-unsafe-webgpu'] });
const page = await b.context.newPage();
page.on('pageerror', (e) => console.error('page error:', e.message));
page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') console.error('page:', m.text()); });
await page.goto(`${server.url}/bench/pages/kernels.html`);
await page.waitForFunction(() => window.kernelBench, null, { timeout: 60000 });
const rows = await page.evaluate((o) => window.kernelBench(o), { backend, styles, sides, reps, out: outSize, threads });
await b.close();
await server.close();

const f = (v) => (v == null ? '-' : v.toFixed(1)).padStart(6);
console.log(`\nstages (ms per frame, least of ${reps}; ${backend}; load average ${load0.toFixed(1)} on ${cpus().length} CPUs)`);
console.log('style                      side  internal  scale  →eng  upload  network  download  upscale  →page   total  kernels');
for (const r of rows) {
  const s = r.stages;
  console.log(`${r.style.padEnd(26)} ${String(r.side).padStart(4)}  ${r.internal.padEnd(8)} ${f(s.scale)}${f(s.toEngine)}${f(s.upload)}  ${f(s.network)}   ${f(s.download)}   ${f(s.upscale)}${f(s.toPage)}  ${f(s.total)}  ${r.kernelCount}`);
}
console.log('\nper kernel (ms in the fastest of three profiled frames, count)');
for (const r of rows) {
  const ks = Object.entries(r.byKernel).sort((a, b) => b[1].ms - a[1].ms).map(([k, v]) => `${k} ${v.ms.toFixed(1)}/${v.count}`).join('  ');
  console.log(`${r.style.padEnd(26)} ${String(r.side).padStart(4)}  ${ks}`);
}
// The same as a Markdown table (for README / bench/TIMING.md).
console.log(`\n| network | side | internal | scale | → engine | upload | network | download | upscale | → page | total | kernels | top kernels (ms/count) |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|`);
for (const r of rows) {
  const s = r.stages;
  const top = Object.entries(r.byKernel).sort((a, b) => b[1].ms - a[1].ms).slice(0, 3).map(([k, v]) => `${k} ${v.ms.toFixed(1)}/${v.count}`).join(', ');
  console.log(`| ${r.style} | ${r.side} | ${r.internal} | ${[s.scale, s.toEngine, s.upload, s.network, s.download, s.upscale, s.toPage, s.total].map((v) => v.toFixed(1)).join(' | ')} | ${r.kernelCount} | ${top} |`);
}
const dir = join(root, 'bench/results');
mkdirSync(dir, { recursive: true });
const tag = arg('tag', '');
const file = join(dir, `${new Date().toISOString().slice(0, 10)}-${hostname().split('.')[0]}-kernels${tag ? `-${tag}` : ''}.json`);
writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), machine: { host: hostname(), cpus: cpus().length, model: cpus()[0]?.model, loadAverage: load0 }, backend, threads, reps, rows }, null, 2) + '\n');
console.log(`wrote ${file}`);
