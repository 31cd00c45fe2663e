import commonjs from '@rollup/plugin-commonjs';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import { readFileSync } from 'node:fs';
import esbuild from 'rollup-plugin-esbuild';
import { THREAD_FILES } from './scripts/wasm-threads.mjs';

const production = process.env.NODE_ENV !== 'development';
/** Node built-ins named by tfjs's emscripten glue but never used in browsers: empty modules. */
const NODE_BUILTINS = new Set(['fs', 'path', 'perf_hooks', 'os', 'worker_threads', 'crypto', 'util']);
const emptyNodeBuiltins = () => ({
  name: 'empty-node-builtins',
  resolveId: (id) => (NODE_BUILTINS.has(id) ? `\0empty:${id}` : null),
  load: (id) => (id.startsWith('\0empty:') ? 'export default {};' : null),
});

/**
 * @mediapipe/tasks-vision loads its wasm glue with importScripts() in classic workers (ours) and
 * falls back to a dynamic import() of the same URL in module workers. That fallback is dead code
 * here, and addons.mozilla.org's linter rejects import() of a computed URL: drop it. The build
 * fails if the pattern changes, so a tasks-vision update cannot bring it back unnoticed.
 */
const tasksVisionNoDynamicImport = () => ({
  name: 'tasks-vision-no-dynamic-import',
  transform(code, id) {
    if (!id.includes('@mediapipe/tasks-vision/')) return null;
    const pattern = 'await import(t.toString())';
    if (!code.includes(pattern)) this.error(`${id}: expected '${pattern}' (the module-worker fallback) to remove`);
    return { code: code.replace(pattern, 'await Promise.reject(Error("tasks-vision: module workers are not used by Brushcam"))'), map: null };
  },
});

/**
 * tfjs-backend-wasm's threaded build starts its threads as blob: workers that importScripts() a
 * blob: copy of its glue. Extension pages' CSP (script-src 'self') refuses both, so the threads
 * are started from the same two scripts shipped as files next to the .wasm binaries instead
 * (scripts/wasm-threads.mjs writes them). Nothing else changes; the build fails if tfjs's code no
 * longer has the two blobs to replace.
 */
const tfjsWasmThreadsFromFiles = () => ({
  name: 'tfjs-wasm-threads-from-files',
  transform(code, id) {
    if (/@tensorflow[\\/]tfjs-backend-wasm[\\/]wasm-out[\\/]tfjs-backend-wasm-threaded-simd\.js$/.test(id)) {
      // tfjs caps its threads at half the logical cores it is told of (it assumes two hyperthreads
      // per core): one thread on a 2-core laptop, whatever setThreadsCount asks. Told twice the
      // count, the cap is the real core count and setThreadsCount (src/ml/backend.ts) decides.
      const cores = 'function _emscripten_num_logical_cores(){if(ENVIRONMENT_IS_NODE)return require("os").cpus().length;return navigator["hardwareConcurrency"]}';
      if (!code.includes(cores)) this.error(`${id}: expected emscripten's logical core count ('${cores}') to replace`);
      return { code: code.replace(cores, 'function _emscripten_num_logical_cores(){return 2*navigator["hardwareConcurrency"]}'), map: null };
    }
    if (!/@tensorflow[\\/]tfjs-backend-wasm[\\/]dist[\\/]backend_wasm\.js$/.test(id)) return null;
    const workerBlob = /const response = wasmWorkerContents\.replace\([^;]*;\s*const blob = new Blob\(\[response\][^;]*;\s*return URL\.createObjectURL\(blob\);/;
    const glueBlob = /factoryConfig\.mainScriptUrlOrBlob = new Blob\(\[`var WasmBackendModuleThreadedSimd = ` \+\s*wasmFactoryThreadedSimd\.toString\(\)\][^;]*;/;
    if (!workerBlob.test(code)) this.error(`${id}: expected the blob: thread worker (locateFile '.worker.js') to replace`);
    if (!glueBlob.test(code)) this.error(`${id}: expected the blob: main script (mainScriptUrlOrBlob) to replace`);
    const dir = '(wasmPathPrefix != null ? wasmPathPrefix : prefix)';
    return {
      code: code
        .replace(workerBlob, `return ${dir} + ${JSON.stringify(THREAD_FILES.worker)};`)
        .replace(glueBlob, `factoryConfig.mainScriptUrlOrBlob = (wasmPathPrefix != null ? wasmPathPrefix : '') + ${JSON.stringify(THREAD_FILES.glue)};`),
      map: null,
    };
  },
});

const plugins = () => [
  emptyNodeBuiltins(),
  tasksVisionNoDynamicImport(),
  tfjsWasmThreadsFromFiles(),
  nodeResolve({ browser: true }),
  commonjs(),
  esbuild({ target: 'es2022', minify: production, sourceMap: false }),
];

/** Inlines the already-built filter worker into the page script as source text. */
const workerSource = () => ({
  name: 'worker-source',
  resolveId: (id) => (id === 'virtual:worker-source' ? '\0worker-source' : null),
  load(id) {
    if (id !== '\0worker-source') return null;
    const file = 'build/worker.js';
    this.addWatchFile(file);
    return `export default ${JSON.stringify(readFileSync(file, 'utf8'))};`;
  },
});

const entry = (name, extra = []) => ({
  input: `src/entries/${name}.entry.ts`,
  output: { file: `build/ext/${name}.js`, format: 'iife', sourcemap: false },
  plugins: [...extra, ...plugins()],
});

// Rollup builds an array of configs in order: the worker first, so page.js can inline it.
export default [
  { input: 'src/entries/worker.entry.ts', output: { file: 'build/worker.js', format: 'iife' }, plugins: plugins() },
  entry('page', [workerSource()]),
  entry('content'),
  entry('background'),
  entry('background-firefox'),
  entry('popup'),
  entry('engine'),
  entry('engine-worker'),
  entry('translator-worker'),
  entry('offscreen-engine'),
  // Test builds only (build/firefox-test: scripts/package-manifests.mjs); never shipped.
  ...['test-hook', 'test-background', 'test-camera'].map((name) => ({
    input: `src/testing/${name}.ts`,
    output: { file: `build/test-ext/${name}.js`, format: 'iife', sourcemap: false },
    plugins: plugins(),
  })),
  // The tfjs runtime as an ES module for the browser unit tests; never shipped.
  { input: 'src/entries/ml-testkit.ts', output: { file: 'build/ml-testkit.js', format: 'es' }, plugins: plugins() },
  // Bench pages drive the pipeline without the extension; never shipped.
  { input: 'src/entries/bench.entry.ts', output: { file: 'build/bench.js', format: 'iife' }, plugins: [workerSource(), ...plugins()] },
];
