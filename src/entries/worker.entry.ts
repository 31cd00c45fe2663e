/** The page's filter worker, inlined into page.js as source text (src/page/filter-worker.ts). */
import '../page/filter-worker';
