/** background.js of the Firefox build: the background script (src/background/background.ts). */
import '../background/background';
