// The build's network check (scripts/check-dist-urls.mjs, the last step of `npm run build`): the
// built extension passes; a test build that carries a foreign address fails it, naming file and
// address. The test builds are copies of dist/chrome (models left out) with one change each.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { findForeignUrls } from '../../scripts/check-dist-urls.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dist = join(root, 'dist/chrome');
const script = join(root, 'scripts/check-dist-urls.mjs');
let tmp;

/** A copy of dist/chrome without the model files, changed by `edit(dir)`. */
function testBuild(name, edit) {
  const dir = join(tmp, name);
  cpSync(dist, dir, { recursive: true, filter: (src) => !src.includes(`${join(dist, 'models')}/`) });
  edit(dir);
  return dir;
}
const check = (dir) => spawnSync(process.execPath, [script, dir], { encoding: 'utf8' });

before(() => {
  assert.ok(existsSync(join(dist, 'manifest.json')), 'dist/chrome is built (npm run build)');
  tmp = mkdtempSync(join(tmpdir(), 'brushcam-dist-urls-'));
});
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('build network check', () => {
  it('passes the extension as built', () => {
    const r = check(testBuild('clean', () => {}));
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(findForeignUrls(dist), []);
  });

  it("fails a build that carries tasks-vision 1.x's usage logger, naming the file and the address", () => {
    const dir = testBuild('logger', (d) => appendFileSync(join(d, 'engine-worker.js'),
      ';this.o.send({url:"https://odml.pa.googleapis.com/v1/log",cb:"POST",ma:1e4,withCredentials:!1});'));
    const r = check(dir);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /engine-worker\.js: foreign address "https:\/\/odml\.pa\.googleapis\.com\/v1\/log"/);
    assert.match(r.stderr, /1 address\(es\) outside the extension/);
  });

  it('fails on a CDN host without a scheme, a plain http address in a page, a socket, and a host in the manifest', () => {
    const dir = testBuild('hosts', (d) => {
      appendFileSync(join(d, 'engine.js'), ';const cdn="//www.gstatic.com/mediapipe/wasm";');
      writeFileSync(join(d, 'popup.html'), readFileSync(join(d, 'popup.html'), 'utf8').replace('</body>', '<img src="http://tracker.example/p.gif"></body>'));
      appendFileSync(join(d, 'page.js'), ';new WebSocket("wss://collect.example.net/s");');
      const m = JSON.parse(readFileSync(join(d, 'manifest.json'), 'utf8'));
      m.content_security_policy.extension_pages += ' https://api.example.com';
      writeFileSync(join(d, 'manifest.json'), JSON.stringify(m));
    });
    const found = findForeignUrls(dir).map((f) => `${f.file} ${f.url}`).sort();
    assert.deepEqual(found, [
      'engine.js www.gstatic.com/mediapipe/wasm',
      'manifest.json https://api.example.com',
      'page.js wss://collect.example.net/s',
      'popup.html http://tracker.example/p.gif',
    ]);
    assert.equal(check(dir).status, 1);
  });

  it('ignores comments (licence headers name web pages) but not strings', () => {
    const dir = testBuild('comments', (d) => appendFileSync(join(d, 'content.js'), '\n/*! licence: https://example.org/LICENSE */\n// see https://example.org/docs\n'));
    assert.deepEqual(findForeignUrls(dir), []);
    appendFileSync(join(dir, 'content.js'), ';console.log("https://example.org/docs");');
    assert.deepEqual(findForeignUrls(dir), [{ file: 'content.js', url: 'https://example.org/docs' }]);
  });
});
