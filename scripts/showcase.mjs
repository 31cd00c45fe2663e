#!/usr/bin/env node
// The demo as pictures: a person clip from ../shared/data/video/people through Brushcam in
// headless Chromium, four ways (two painting styles, the avatar as face swap and as full avatar),
// each run a separate call whose output frames are matched to the camera frame they were made
// from (scripts/demo.mjs --all-frames). Then scripts/showcase_assemble.py puts them side by side:
//   <out>/side-by-side.mp4      camera | style | style | face swap | full avatar, on the clip's clock
//   <out>/contact-sheet.jpg     one moment of it, labelled (the README's picture: docs/contact-sheet.jpg)
//
//   node scripts/showcase.mjs [--input clip.mp4] [--out demo-out/showcase] [--styles starry_night,the_scream]
//                             [--clip-seconds 5] [--seconds 8] [--readme]   (--readme: copy the sheet to docs/)
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { clipCamera, root } from '../test/support/fixtures.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const input = resolve(opt('input', join(root, '../shared/data/video/people/d3.mp4')));
if (!existsSync(input)) {
  console.error(`${input} is missing: pass a clip of a person with --input`);
  process.exit(1);
}
const out = resolve(opt('out', 'demo-out/showcase'));
const [styleA, styleB] = opt('styles', 'starry_night,the_scream').split(',');
const clipSeconds = opt('clip-seconds', '5');
// Each run reads the clip twice and more: every moment has an output in each, and the one shown is
// from the second reading, past the governor's warm-up (it starts low and steps up).
const seconds = opt('seconds', String(2 * Number(clipSeconds) + 3));
const size = '640x360';
const [w, h] = size.split('x').map(Number);

const models = JSON.parse(readFileSync(join(root, 'models/manifest.json'), 'utf8')).models;
const titleOf = (id) => {
  const m = models.find((x) => x.id === id && x.kind === 'style');
  if (!m) throw new Error(`--styles: '${id}' is not a painting style of models/manifest.json`);
  return m.title ?? m.name;
};
const runs = [
  { name: 'style-a', label: titleOf(styleA), args: ['--mode', 'style', '--style', styleA] },
  { name: 'style-b', label: titleOf(styleB), args: ['--mode', 'style', '--style', styleB] },
  { name: 'face-swap', label: 'avatar: face swap', args: ['--mode', 'anime', '--presentation', 'face-swap'] },
  { name: 'full-avatar', label: 'avatar: full avatar', args: ['--mode', 'anime', '--presentation', 'full-avatar', '--backdrop', 'scene'] },
];
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
for (const r of runs) {
  console.log(`showcase: ${r.label}...`);
  const res = spawnSync(process.execPath, [join(root, 'scripts/demo.mjs'), '--headless', '--input', input, '--clip-seconds', clipSeconds,
    '--size', size, '--seconds', seconds, '--frames', '100000', '--all-frames', '--out', join(out, r.name) + '/', ...r.args], { stdio: 'inherit' });
  if (res.status !== 0) {
    console.error(`showcase: the ${r.label} run failed (exit ${res.status})`);
    process.exit(1);
  }
}
const camera = clipCamera(input, { width: w, height: h, seconds: Number(clipSeconds) });
const res = spawnSync('/usr/bin/python3', [join(root, 'scripts/showcase_assemble.py'), out, camera,
  ...runs.flatMap((r) => [`${r.name}=${r.label}`])], { stdio: 'inherit' });
if (res.status !== 0) process.exit(1);
if (args.includes('--readme')) {
  copyFileSync(join(out, 'contact-sheet.jpg'), join(root, 'docs/contact-sheet.jpg'));
  console.log('copied to docs/contact-sheet.jpg');
}
