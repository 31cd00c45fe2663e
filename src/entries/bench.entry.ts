/** bench.js: the bench pages' bundle, never shipped (src/testing/bench.ts). */
import '../testing/bench';
