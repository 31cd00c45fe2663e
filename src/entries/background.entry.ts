/** background.js (Chromium): the service worker (src/background/background.ts) and its offscreen-engine relay. */
import '../background/background';
import '../background/offscreen-chrome';
