/** content.js: the isolated-world content script (src/content/content-script.ts). */
import '../content/content-script';
