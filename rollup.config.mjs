import commonjs from '@rollup/plugin-commonjs';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import { readFileSync } from 'node:fs';
import esbuild from 'rollup-plugin-esbuild';

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

const plugins = () => [
  emptyNodeBuiltins(),
  tasksVisionNoDynamicImport(),
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
  entry('popup'),
  entry('engine'),
  entry('engine-worker'),
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
