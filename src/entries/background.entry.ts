/** background.js: the service worker / background script (src/background/background.ts). */
import '../background/background';
