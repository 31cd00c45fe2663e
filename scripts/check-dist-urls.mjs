// The build's network check: fails when a built extension (dist/chrome, dist/firefox) carries an
// address outside the extension. Brushcam makes no network requests, so its code has no reason to
// name a server; a library update that brings one (a usage logger, a CDN fallback, an analytics
// endpoint) stops the build here instead of shipping.
//
// What is checked, per file of the extension:
// - JavaScript, with comments removed (esbuild, legal comments too: licence headers name their
//   licence's web page and are never fetched): every `scheme://` that is not the extension's
//   own (chrome-extension://, moz-extension://), and every mention of googleapis or gstatic;
// - HTML, CSS and JSON (manifests, model op lists) as they are;
// - WebAssembly: the printable strings of the binary (wasm reaches the network only through the
//   JavaScript glue, which is checked above; its strings are checked anyway).
// Model weight shards (.bin) and pictures are data, not checked.
//
// ALLOWED lists the few strings that look like addresses and are not: each with why. Adding to
// it needs the same reasoning in review.
//
//   node scripts/check-dist-urls.mjs [dir ...]   (default: dist/chrome dist/firefox)
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative } from 'node:path';
import { transformSync } from 'esbuild';

/** Exact strings that look like foreign addresses but are never fetched. */
export const ALLOWED = [
  // tfjs-core's model IO handlers: local storage schemes, matched as prefixes of a save path.
  { text: 'indexeddb://', why: 'tfjs IO: browser IndexedDB scheme prefix, local' },
  { text: 'localstorage://', why: 'tfjs IO: browser localStorage scheme prefix, local' },
  { text: 'downloads://', why: 'tfjs IO: "save as download" scheme prefix, local' },
  { text: 'file://', why: 'tfjs / emscripten: local file scheme prefix (Node.js paths), never used in a browser' },
  // Text of error messages in tfjs and its WASM backend (never requested).
  { text: 'https://developer.mozilla.org/en-US/docs/Web/API/Fetch_API', why: 'tfjs error message text' },
  { text: 'https://github.com/tensorflow/tfjs-node', why: 'tfjs error message text' },
  { text: 'https://github.com/tensorflow/tfjs/issues/1735', why: 'tfjs error message text' },
  { text: 'https://github.com/tensorflow/tfjs/issues/5447', why: 'tfjs error message text' },
  { text: 'https://github.com/tensorflow/tfjs/blob/master/tfjs-backend-wasm/README.md#using-bundlers', why: 'tfjs-backend-wasm error message text' },
  { text: 'https://github.com/tensorflow/tfjs/issues so we can add it', why: 'tfjs-converter error message text (an op the graph executor does not know)' },
  { text: 'https://emscripten.org/docs/porting/pthreads.html#blocking-on-the-main-browser-thread', why: 'tfjs-backend-wasm (emscripten) error message text' },
  // Comments inside GLSL shader sources of tfjs-backend-webgl (strings to the JS minifier).
  { text: 'https://www.shadertoy.com/view/4djSRW', why: 'tfjs-backend-webgl shader source comment (hash function credit)' },
  { text: 'https://arxiv.org/abs/1706.02515', why: 'tfjs-core comment in an op source string (SELU paper)' },
  { text: 'https://en.wikipedia.org/wiki/IEEE_754-1985#Representation_of_non-numbers', why: 'tfjs-backend-webgl shader source comment' },
  // Protocol buffer names in @mediapipe/tasks-vision (JS and wasm): a "type URL" is the name of a
  // message type inside google.protobuf.Any, not an address; nothing resolves it.
  { text: /type\.googleapis\.com\/[A-Za-z0-9_.]*/g, why: 'protobuf Any type name (a name, not an address)' },
  { text: 'google.golang.org/genproto/googleapis/rpc/status', why: 'protobuf go_package option string in the wasm' },
  // Error message texts inside the MediaPipe wasm binary.
  { text: 'https://github.com/opencv/opencv/issues/16739', why: 'OpenCV warning text in the MediaPipe wasm' },
  { text: 'http://go/lsc_proto3_utf8', why: 'protobuf error text in the MediaPipe wasm' },
  { text: 'http://goto/weakfields', why: 'protobuf error text in the MediaPipe wasm' },
  { text: 'https://www.tensorflow.org/lite/guide/ops_custom', why: 'TFLite error text in the MediaPipe wasm' },
  { text: 'https://www.tensorflow.org/lite/guide/ops_select', why: 'TFLite error text in the MediaPipe wasm' },
];

/** What counts as an address: any scheme:// (the extension's own schemes excepted), or a Google API/CDN host. */
const SUSPECT = /(?<![A-Za-z0-9+.-])(?!chrome-extension:\/\/|moz-extension:\/\/)[a-z][a-z0-9+.-]*:\/\/[^\s"'`)\\<>]*|[A-Za-z0-9.-]*(?:googleapis|gstatic)[A-Za-z0-9./_-]*/gi;

function stripAllowed(text) {
  let out = text;
  for (const a of ALLOWED) {
    out = typeof a.text === 'string' ? out.split(a.text).join(' ') : out.replace(a.text, ' ');
  }
  return out;
}

/** Printable runs of 4+ characters, as `strings` prints them. */
function binaryStrings(buf) {
  return buf.toString('latin1').match(/[\x20-\x7e]{4,}/g)?.join('\n') ?? '';
}

function textOf(file) {
  const ext = extname(file);
  if (ext === '.js' || ext === '.mjs') {
    const code = readFileSync(file, 'utf8');
    return transformSync(code, { loader: 'js', minify: true, legalComments: 'none', logLevel: 'silent' }).code;
  }
  if (['.html', '.css', '.json', '.txt', '.svg'].includes(ext)) return readFileSync(file, 'utf8');
  if (ext === '.wasm') return binaryStrings(readFileSync(file));
  return null;
}

function* filesUnder(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* filesUnder(p);
    else yield p;
  }
}

/** Every foreign-looking address in `dir`: [{file, url}] (file relative to dir). Empty when clean. */
export function findForeignUrls(dir) {
  const found = [];
  for (const file of filesUnder(dir)) {
    const text = textOf(file);
    if (text === null) continue;
    for (const m of stripAllowed(text).matchAll(SUSPECT)) {
      found.push({ file: relative(dir, file), url: m[0] });
    }
  }
  return found;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const root = new URL('..', import.meta.url).pathname;
  const dirs = process.argv.length > 2 ? process.argv.slice(2) : [join(root, 'dist/chrome'), join(root, 'dist/firefox')];
  let bad = 0;
  for (const dir of dirs) {
    const found = findForeignUrls(dir);
    for (const f of found) console.error(`${dir}/${f.file}: foreign address ${JSON.stringify(f.url)}`);
    bad += found.length;
  }
  if (bad) {
    console.error(`\n${bad} address(es) outside the extension in the build. Brushcam must not talk to any server: remove the code that names them, or, ` +
      'if a string is provably never requested (a message text, a protobuf type name), add it to ALLOWED in scripts/check-dist-urls.mjs with the reason.');
    process.exit(1);
  }
  console.log(`no foreign addresses in ${dirs.map((d) => relative(root, d) || d).join(', ')}`);
}
