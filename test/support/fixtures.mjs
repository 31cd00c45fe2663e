// Fake-camera fixtures: y4m files Chromium plays as the camera, and a PNG of the same
// picture for pixel comparisons. Made with ffmpeg into build/fixtures (never committed).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

export const root = new URL('../..', import.meta.url).pathname;
export const fixturesDir = join(root, 'build/fixtures');

function ffmpeg(args) {
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args], { stdio: 'inherit' });
}

/**
 * A still test picture at w×h, as y4m (30 fps, 2 s, looped by Chromium) and as PNG: smooth
 * colour gradients (so any filter visibly changes them) and, in the top-left 64×64 corner, a
 * fine mid-grey checkerboard "marker" that only the raw camera contains.
 */
export const MARKER = { x: 0, y: 0, size: 64, low: 100, high: 150 };
const inMarker = `lt(X,${MARKER.size})*lt(Y,${MARKER.size})`;
const checker = `(${MARKER.low}+${MARKER.high - MARKER.low}*mod(floor(X/2)+floor(Y/2),2))`;
const channel = (expr) => `'if(${inMarker},${checker},${expr})'`;
export function stillCamera(w = 640, h = 360) {
  mkdirSync(fixturesDir, { recursive: true });
  const base = join(fixturesDir, `still2-${w}x${h}`);
  const y4m = `${base}.y4m`;
  const png = `${base}.png`;
  if (!existsSync(y4m) || !existsSync(png)) {
    const src = `color=c=black:s=${w}x${h},format=rgb24,geq=r=${channel('255*X/W')}:g=${channel('255*Y/H')}:b=${channel('128+100*sin(X/37+Y/23)')}`;
    ffmpeg(['-f', 'lavfi', '-i', src, '-frames:v', '1', png]);
    ffmpeg(['-loop', '1', '-i', png, '-t', '2', '-r', '30', '-pix_fmt', 'yuv420p', y4m]);
  }
  return { y4m, png, width: w, height: h };
}

/** A clip from ../shared/data converted to y4m for the fake camera. */
export function clipCamera(input, { width = 640, height = 360, seconds = 10, fps = 30 } = {}) {
  mkdirSync(fixturesDir, { recursive: true });
  const name = input.split('/').pop().replace(/\.[^.]+$/, '');
  const y4m = join(fixturesDir, `${name}-${width}x${height}-${seconds}s.y4m`);
  if (!existsSync(y4m)) {
    ffmpeg(['-i', input, '-t', String(seconds), '-vf', `scale=${width}:${height}:force_original_aspect_ratio=increase,crop=${width}:${height},fps=${fps}`, '-pix_fmt', 'yuv420p', y4m]);
  }
  return y4m;
}

/**
 * A clip from ../shared/data as the fake camera, with the raw-only checker marker of
 * stillCamera() drawn over its top-left corner (for tests that must prove no raw frame leaks).
 */
export function markedClipCamera(input, { width = 640, height = 360, seconds = 10, fps = 30, faceMarker = false } = {}) {
  mkdirSync(fixturesDir, { recursive: true });
  const name = input.split('/').pop().replace(/\.[^.]+$/, '');
  const y4m = join(fixturesDir, `${name}-${width}x${height}-${seconds}s-marked${faceMarker ? '-face' : ''}.y4m`);
  if (!existsSync(y4m)) {
    const markers = faceMarker ? [MARKER, FACE_MARKER] : [MARKER];
    const inputs = markers.flatMap((m) => ['-f', 'lavfi', '-i',
      `color=c=black:s=${m.size}x${m.size}:r=${fps},format=gray,geq=lum='${m.low}+${m.high - m.low}*mod(floor(X/2)+floor(Y/2),2)'`]);
    let graph = `[0:v]scale=${width}:${height}:force_original_aspect_ratio=increase,crop=${width}:${height},fps=${fps},format=yuv420p[c0]`;
    markers.forEach((m, k) => {
      graph += `;[${k + 1}:v]format=yuv420p[m${k}];[c${k}][m${k}]overlay=${m.x}:${m.y}:shortest=1[c${k + 1}]`;
    });
    ffmpeg(['-i', input, ...inputs, '-t', String(seconds), '-filter_complex', graph, '-map', `[c${markers.length}]`, '-pix_fmt', 'yuv420p', y4m]);
  }
  return y4m;
}

/**
 * A second raw-only marker, on the face of the people clips at 640×360 (between the eyes and
 * the mouth of d0): face swap may show the camera around the face, never this.
 */
export const FACE_MARKER = { x: 304, y: 132, size: 24, low: 100, high: 150 };
