/** engine.js: the script of engine.html, the hidden extension frame (src/engine/frame.ts). */
import '../engine/frame';
