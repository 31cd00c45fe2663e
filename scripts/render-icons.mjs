#!/usr/bin/env node
// Renders the extension's icons from the drawing in assets/icons/brushcam.svg (part of `npm run
// build`): build/icons/icon-<size>.png for the manifest and the toolbar (16, 32, 48, 128 px) and
// icon-off-<size>.png, the same picture in faded grey, which the toolbar shows on tabs where
// Brushcam does nothing (16, 32 px: the toolbar's sizes).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import { PNG } from 'pngjs';

export const ICON_SIZES = [16, 32, 48, 128];
export const OFF_SIZES = [16, 32];

const root = new URL('..', import.meta.url).pathname;

/** RGBA PNG of `svg` at size×size. */
export function render(svg, size) {
  return new Resvg(svg, { fitTo: { mode: 'width', value: size }, background: 'rgba(0,0,0,0)' }).render().asPng();
}

/** The "off" look: luminance only, lighter, half transparent. */
export function faded(png) {
  const img = PNG.sync.read(png);
  const d = img.data;
  for (let i = 0; i < d.length; i += 4) {
    const y = 0.299 * d[i] + 0.587 * d[i + 1] + 0.114 * d[i + 2];
    const v = Math.round(110 + 0.55 * y);
    d[i] = d[i + 1] = d[i + 2] = v;
    d[i + 3] = Math.round(d[i + 3] * 0.6);
  }
  return PNG.sync.write(img);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const svg = readFileSync(join(root, 'assets/icons/brushcam.svg'), 'utf8');
  const out = join(root, 'build/icons');
  mkdirSync(out, { recursive: true });
  for (const size of ICON_SIZES) writeFileSync(join(out, `icon-${size}.png`), render(svg, size));
  for (const size of OFF_SIZES) writeFileSync(join(out, `icon-off-${size}.png`), faded(render(svg, size)));
  console.log(`build/icons: icon-{${ICON_SIZES.join(',')}}.png, icon-off-{${OFF_SIZES.join(',')}}.png from assets/icons/brushcam.svg`);
}
