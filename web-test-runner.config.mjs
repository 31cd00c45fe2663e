// Browser unit tests: `npm run test:unit` (after `npm run build`, which writes build/worker.js).
// They run in Debian's Chromium, headless, with the fake camera (a moving test pattern + a beep).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { esbuildPlugin } from '@web/dev-server-esbuild';
import { chromeLauncher } from '@web/test-runner-chrome';

const workerFile = fileURLToPath(new URL('./build/worker.js', import.meta.url));

/** `import workerSource from 'virtual:worker-source'`: the built filter worker as source text. */
function workerSourcePlugin() {
  const id = '/__virtual/worker-source.js';
  return {
    name: 'worker-source',
    resolveImport({ source }) {
      return source === 'virtual:worker-source' ? id : undefined;
    },
    serve(context) {
      if (context.path !== id) return undefined;
      if (!existsSync(workerFile)) {
        throw new Error(`virtual:worker-source: ${workerFile} does not exist; run \`npm run build\` before the unit tests`);
      }
      return { body: `export default ${JSON.stringify(readFileSync(workerFile, 'utf8'))};`, type: 'js' };
    },
  };
}

/**
 * `import { requireAll } from 'virtual:test-env'`: true in CI (CI=true, or BRUSHCAM_NO_SKIP=1),
 * where a test that would skip for a missing browser feature fails instead (mustRun in
 * test/unit/helpers.ts).
 */
function testEnvPlugin() {
  const id = '/__virtual/test-env.js';
  const requireAll = process.env.CI === 'true' || process.env.BRUSHCAM_NO_SKIP === '1';
  return {
    name: 'test-env',
    resolveImport({ source }) {
      return source === 'virtual:test-env' ? id : undefined;
    },
    serve(context) {
      return context.path === id ? { body: `export const requireAll = ${requireAll};`, type: 'js' } : undefined;
    },
  };
}

/** `/__shared/<path>`: read-only files of ../shared/data (test inputs that never enter the repo). */
function sharedDataPlugin() {
  const dir = fileURLToPath(new URL('../shared/data/', import.meta.url));
  const types = { jpg: 'image/jpeg', png: 'image/png', tflite: 'application/octet-stream', json: 'application/json' };
  return {
    name: 'shared-data',
    serve(context) {
      if (!context.path.startsWith('/__shared/')) return undefined;
      const rel = decodeURIComponent(context.path.slice('/__shared/'.length));
      if (rel.split('/').includes('..')) return { status: 403, body: 'forbidden' };
      const file = dir + rel;
      if (!existsSync(file)) return { status: 404, body: `${file} not found` };
      return { body: readFileSync(file), type: types[rel.split('.').pop()] ?? 'application/octet-stream' };
    },
  };
}

/**
 * `/__clipframes/<clip>/count` and `/__clipframes/<clip>/<k>.jpg`: the frames of
 * ../shared/data/video/people/<clip>.mp4 at its own rate, fitted into 640×360 (grey bars),
 * extracted once with ffmpeg into build/fixtures/clipframes/<clip>/ (1-based, as ffmpeg numbers them).
 */
function clipFramesPlugin() {
  const clips = fileURLToPath(new URL('../shared/data/video/people/', import.meta.url));
  const out = fileURLToPath(new URL('./build/fixtures/clipframes/', import.meta.url));
  const framesOf = (clip) => {
    const dir = `${out}${clip}/`;
    if (!existsSync(`${dir}done`)) {
      mkdirSync(dir, { recursive: true });
      execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-i', `${clips}${clip}.mp4`, '-vf',
        'scale=640:360:force_original_aspect_ratio=decrease,pad=640:360:(ow-iw)/2:(oh-ih)/2:color=gray', '-q:v', '3', `${dir}%05d.jpg`]);
      writeFileSync(`${dir}done`, '');
    }
    return dir;
  };
  return {
    name: 'clip-frames',
    serve(context) {
      const m = /^\/__clipframes\/([a-z0-9_-]+)\/(count|\d+\.jpg)$/i.exec(context.path);
      if (!m) return undefined;
      if (!existsSync(`${clips}${m[1]}.mp4`)) return { status: 404, body: `no clip ${m[1]}` };
      const dir = framesOf(m[1]);
      if (m[2] === 'count') return { body: String(readdirSync(dir).filter((f) => f.endsWith('.jpg')).length), type: 'text/plain' };
      const file = `${dir}${m[2].padStart(9, '0')}`;
      if (!existsSync(file)) return { status: 404, body: `${file} not found` };
      return { body: readFileSync(file), type: 'image/jpeg' };
    },
  };
}

if (!existsSync(workerFile)) {
  console.error(`\n  ${workerFile} is missing: run \`npm run build\` first (the pipeline tests load the built filter worker).\n`);
  process.exit(1);
}

export default {
  files: ['test/unit/**/*.test.ts'],
  nodeResolve: true,
  concurrency: 1,
  concurrentBrowsers: 1,
  // WebGL is SwiftShader here (no GPU, 2 cores): be generous.
  testsStartTimeout: 60_000,
  testsFinishTimeout: 240_000, // per test file; mocha's `timeout` below is per test
  browserStartTimeout: 60_000,
  testFramework: { config: { timeout: 20_000, ui: 'bdd' } },
  plugins: [
    workerSourcePlugin(),
    testEnvPlugin(),
    sharedDataPlugin(),
    clipFramesPlugin(),
    esbuildPlugin({ ts: true, target: 'es2022' }),
  ],
  browsers: [
    chromeLauncher({
      launchOptions: {
        executablePath: '/usr/bin/chromium',
        headless: true,
        args: [
          '--no-sandbox',
          '--use-fake-ui-for-media-stream',
          '--use-fake-device-for-media-stream',
          '--enable-unsafe-swiftshader',
          '--enable-unsafe-webgpu',
          '--autoplay-policy=no-user-gesture-required',
          '--disable-background-timer-throttling',
          '--disable-renderer-backgrounding',
        ],
      },
    }),
  ],
};
