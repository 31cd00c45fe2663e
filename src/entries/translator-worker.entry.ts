/** translator-worker.js: the avatar's translator worker (src/engine/avatar/translator-worker.ts). */
import '../engine/avatar/translator-worker';
