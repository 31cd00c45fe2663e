/** offscreen-engine.js: the script of offscreen-engine.html, Chromium's offscreen document (src/engine/offscreen.ts). */
import '../engine/offscreen';
