/** engine-worker.js: the engine worker (src/engine/worker.ts). */
import '../engine/worker';
