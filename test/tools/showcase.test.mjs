// scripts/showcase_assemble.py: the runs' output frames land beside the camera frame they were
// made from (a slower run shows its newest earlier output; a frame read twice, the later output), and
// the sheet and the video are written.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { PNG } from 'pngjs';
import { root } from '../support/fixtures.mjs';

const W = 64;
const H = 36;

/** A y4m clip whose frame i is flat grey level 10 + 20 i (luma only matters here). */
function y4m(n) {
  const parts = [Buffer.from(`YUV4MPEG2 W${W} H${H} F30:1 Ip A1:1 C420jpeg\n`)];
  for (let i = 0; i < n; i++) {
    parts.push(Buffer.from('FRAME\n'), Buffer.alloc(W * H, 10 + 20 * i), Buffer.alloc(W * H / 2, 128));
  }
  return Buffer.concat(parts);
}

function png(v) {
  const p = new PNG({ width: W, height: H });
  for (let k = 0; k < W * H; k++) p.data.set([v, 255 - v, 0, 255], k * 4);
  return PNG.sync.write(p);
}

test('showcase_assemble: frames by camera index, newest earlier output held, sheet and video written', () => {
  const dir = mkdtempSync(join(tmpdir(), 'brushcam-showcase-'));
  try {
    writeFileSync(join(dir, 'cam.y4m'), y4m(6));
    // Run "a" painted every camera frame from 1; run "b" only frames 2 and 4.
    const runs = { a: [1, 2, 3, 4, 5], b: [2, 4] };
    for (const [name, idx] of Object.entries(runs)) {
      mkdirSync(join(dir, name));
      const frames = idx.map((i) => {
        writeFileSync(join(dir, name, `frame-${i}.png`), png(40 * i));
        return { file: `frame-${i}.png`, index: i };
      });
      if (name === 'a') {
        // the clip wrapped: run "a" read frame 4 again later (past its warm-up); that output is shown
        writeFileSync(join(dir, name, 'frame-4b.png'), png(200));
        frames.push({ file: 'frame-4b.png', index: 4 });
      }
      writeFileSync(join(dir, name, 'frames.json'), JSON.stringify({ frames }));
    }
    const log = execFileSync('/usr/bin/python3', [join(root, 'scripts/showcase_assemble.py'), dir, join(dir, 'cam.y4m'), 'a=style A', 'b=style B'], { encoding: 'utf8' });
    assert.match(log, /camera frames 2\.\.5/);
    // Freshest moment: frame 4 (both runs have it; frame 2 as well, the later one wins).
    assert.match(log, /contact-sheet\.jpg: camera frame 4 /);
    assert.ok(existsSync(join(dir, 'side-by-side.mp4')));
    const sheet = execFileSync('/usr/bin/python3', ['-c', `
import cv2, json
im = cv2.imread('${join(dir, 'contact-sheet.jpg')}')
print(json.dumps([im.shape[1], im.shape[0]] + [[int(v) for v in im[90, 160 + 320 * k]] for k in range(3)]))`], { encoding: 'utf8' });
    const [w, h, camera, a, b] = JSON.parse(sheet);
    assert.deepEqual([w, h], [3 * 320, 180 + 26]);
    assert.ok(Math.abs(camera[1] - 90) < 8, `camera panel is clip frame 4 (grey 90): ${camera}`);
    assert.ok(Math.abs(a[2] - 200) < 8 && Math.abs(a[1] - 55) < 8, `run a shows its later output of frame 4: ${a}`);
    assert.ok(Math.abs(b[2] - 160) < 8, `run b shows its frame 4: ${b}`);
    assert.throws(() => execFileSync('/usr/bin/python3', [join(root, 'scripts/showcase_assemble.py'), dir, join(dir, 'cam.y4m'), 'missing=x'], { stdio: 'pipe' }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
