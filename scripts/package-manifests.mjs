// Lays out dist/chrome and dist/firefox from the rollup output, extension/ and models/.
// Firefox gets the base manifest with extension/manifest.firefox.json merged over it.
import { cpSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeThreadFiles } from './wasm-threads.mjs';

const root = new URL('..', import.meta.url).pathname;
/** The WebAssembly files the extension ships (see below: only those the code loads). */
export const SHIPPED_WASM = {
  tfjs: ['tfjs-backend-wasm-simd.wasm'],
  tfjsThreaded: ['tfjs-backend-wasm-threaded-simd.wasm'],
  mediapipe: ['vision_wasm_internal.js', 'vision_wasm_internal.wasm'],
};
const base = JSON.parse(readFileSync(join(root, 'extension/manifest.base.json'), 'utf8'));
const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
base.version = version;

function merge(a, b) {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) {
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && a[k] && typeof a[k] === 'object' ? merge(a[k], v) : v;
  }
  return out;
}

const targets = {
  chrome: base,
  firefox: (() => {
    const m = merge(base, JSON.parse(readFileSync(join(root, 'extension/manifest.firefox.json'), 'utf8')));
    // Firefox MV3 runs background scripts, not a service worker.
    delete m.background.service_worker;
    delete m.minimum_chrome_version; // Chrome's key; Firefox has strict_min_version
    // Chromium's multi-threaded engine (an offscreen document made cross-origin isolated by these
    // keys): Firefox has no offscreen documents and runs the single-threaded engine in the frame.
    delete m.cross_origin_embedder_policy;
    delete m.cross_origin_opener_policy;
    m.permissions = m.permissions.filter((p) => p !== 'offscreen');
    return m;
  })(),
};

const built = join(root, 'build/ext');
for (const [name, manifest] of Object.entries(targets)) {
  const dir = join(root, 'dist', name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  cpSync(built, dir, { recursive: true });
  // One background per browser: Chromium's relays engine routes to its offscreen document.
  if (name === 'firefox') {
    cpSync(join(built, 'background-firefox.js'), join(dir, 'background.js'));
    rmSync(join(dir, 'offscreen-engine.js'));
  }
  rmSync(join(dir, 'background-firefox.js'));
  for (const f of readdirSync(join(root, 'extension'))) {
    if (f.startsWith('manifest.') || (name !== 'chrome' && f.startsWith('offscreen-'))) continue;
    cpSync(join(root, 'extension', f), join(dir, f), { recursive: true });
  }
  // Icons rendered from assets/icons/brushcam.svg by scripts/render-icons.mjs.
  cpSync(join(root, 'build/icons'), join(dir, 'icons'), { recursive: true });
  cpSync(join(root, 'models'), join(dir, 'models'), {
    recursive: true,
    // Training-side files (parity fixtures, cards, sheets, evaluation numbers) stay out of the
    // extension: it needs only manifest.json, model.json and the weight shards.
    filter: (src) => !/(parity\.json|metrics\.json|temporal-eval\.json|\.md|\.png)$/.test(src),
  });
  // WebAssembly: only the variants the engine loads. tfjs's WASM backend runs with SIMD, which
  // every browser the manifests admit has (Chrome 111+, Firefox 142+). MediaPipe's face detector
  // loads its SIMD build by name (src/engine/avatar/face-detector.ts).
  mkdirSync(join(dir, 'wasm'), { recursive: true });
  for (const f of SHIPPED_WASM.tfjs) cpSync(join(root, 'node_modules/@tensorflow/tfjs-backend-wasm/dist', f), join(dir, 'wasm', f));
  // Chromium's offscreen engine is cross-origin isolated and may run tfjs's threaded SIMD build,
  // with its thread worker and glue as files (src/engine/threads.ts; extension pages may not start
  // blob: workers). Firefox's engine is single-threaded.
  if (name === 'chrome') {
    for (const f of SHIPPED_WASM.tfjsThreaded) cpSync(join(root, 'node_modules/@tensorflow/tfjs-backend-wasm/dist', f), join(dir, 'wasm', f));
    writeThreadFiles(root, join(dir, 'wasm'));
  }
  // Loaded by the engine worker from the extension itself, never from a CDN.
  mkdirSync(join(dir, 'mediapipe'), { recursive: true });
  for (const f of SHIPPED_WASM.mediapipe) cpSync(join(root, 'node_modules/@mediapipe/tasks-vision/wasm', f), join(dir, 'mediapipe', f));
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
}

// The Firefox end-to-end tests' build (build/firefox-test, never shipped): dist/firefox plus
// test-only scripts (src/testing/) that let a test page write settings and read status (BiDi
// cannot open moz-extension:// pages) and, on pages opened with ?testcam=, play a picture as
// the camera. The product's own files are the same bytes as in dist/firefox.
{
  const dir = join(root, 'build/firefox-test');
  rmSync(dir, { recursive: true, force: true });
  cpSync(join(root, 'dist/firefox'), dir, { recursive: true });
  for (const f of readdirSync(join(root, 'build/test-ext'))) cpSync(join(root, 'build/test-ext', f), join(dir, f));
  const m = structuredClone(targets.firefox);
  m.name = 'Brushcam (test build)';
  m.background.scripts = [...m.background.scripts, 'test-background.js'];
  const [main, isolated] = m.content_scripts;
  main.js = ['test-camera.js', ...main.js];
  isolated.js = [...isolated.js, 'test-hook.js'];
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m, null, 2) + '\n');
}
console.log('dist/chrome and dist/firefox written (and build/firefox-test for the Firefox tests)');
