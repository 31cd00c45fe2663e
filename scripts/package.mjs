#!/usr/bin/env node
// Store packages from the built extension (`npm run package` builds first):
//   packages/brushcam-chrome-<version>.zip    (Chrome Web Store: a zip with manifest.json at its root)
//   packages/brushcam-firefox-<version>.zip   (addons.mozilla.org, made by `web-ext build`)
// and a size report (packages/size-report.md, printed too): each package's download size, and what
// takes the room, unpacked, by part.
//
//   node scripts/package.mjs [--out <dir>]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const root = new URL('..', import.meta.url).pathname;

/** The part of the extension a file belongs to, for the size report. */
export function partOf(rel) {
  if (rel.startsWith('models/')) return rel.split('/').length > 2 ? rel.split('/').slice(0, 2).join('/') + '/' : rel;
  if (rel.startsWith('mediapipe/')) return 'mediapipe/ (face detector, WebAssembly)';
  if (rel.startsWith('wasm/')) return 'wasm/ (tfjs CPU engine, WebAssembly)';
  if (rel.startsWith('icons/')) return 'icons/';
  if (rel.endsWith('.js')) return 'scripts (*.js)';
  return 'pages, manifest, styles';
}

function* files(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* files(p);
    else yield p;
  }
}

const mb = (n) => `${(n / 1e6).toFixed(2)} MB`;

/** Builds both packages from dist/ into `out`; returns {chrome, firefox, report}. */
export function buildPackages(out = join(root, 'packages')) {
  const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
  for (const b of ['chrome', 'firefox']) {
    const m = join(root, 'dist', b, 'manifest.json');
    if (!existsSync(m)) throw new Error(`${m} is missing: run \`npm run build\` first (\`npm run package\` does)`);
    const v = JSON.parse(readFileSync(m, 'utf8')).version;
    if (v !== version) throw new Error(`dist/${b} is version ${v}, package.json says ${version}: rebuild`);
  }
  mkdirSync(out, { recursive: true });
  const webExt = join(root, 'node_modules/.bin/web-ext');
  const made = {};
  for (const b of ['chrome', 'firefox']) {
    const name = `brushcam-${b}-${version}.zip`;
    rmSync(join(out, name), { force: true });
    execFileSync(webExt, ['build', '--source-dir', join(root, 'dist', b), '--artifacts-dir', out, '--filename', name, '--overwrite-dest'], { stdio: 'pipe' });
    made[b] = join(out, name);
  }
  const lines = [`# Brushcam ${version}: package sizes`, '', '| package | download (zip) | unpacked |', '|---|---|---|'];
  const parts = new Map();
  let unpacked = 0;
  for (const f of files(join(root, 'dist/chrome'))) {
    const size = statSync(f).size;
    unpacked += size;
    const part = partOf(relative(join(root, 'dist/chrome'), f));
    parts.set(part, (parts.get(part) ?? 0) + size);
  }
  for (const b of ['chrome', 'firefox']) {
    const u = [...files(join(root, 'dist', b))].reduce((s, f) => s + statSync(f).size, 0);
    lines.push(`| ${relative(out, made[b])} | ${mb(statSync(made[b]).size)} | ${mb(u)} |`);
  }
  lines.push('', `What takes the room (Chrome package, unpacked; Firefox's holds the same files):`, '', '| part | unpacked |', '|---|---|');
  for (const [part, size] of [...parts].sort((a, b) => b[1] - a[1])) lines.push(`| ${part} | ${mb(size)} |`);
  lines.push(`| total | ${mb(unpacked)} |`);
  const report = lines.join('\n') + '\n';
  writeFileSync(join(out, 'size-report.md'), report);
  return { ...made, report };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const i = process.argv.indexOf('--out');
  const out = i > 0 ? resolve(process.argv[i + 1]) : join(root, 'packages');
  const { chrome, firefox, report } = buildPackages(out);
  console.log(report);
  console.log(`wrote ${chrome}\n      ${firefox}\n      ${join(out, 'size-report.md')}`);
}
