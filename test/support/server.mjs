// A static server on 127.0.0.1 for the demo and the end-to-end pages. Paths under /strict/
// are served with a call-site-like strict CSP (no blob:, no wasm-unsafe-eval).
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { root } from './fixtures.mjs';

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript',
  '.css': 'text/css', '.png': 'image/png', '.json': 'application/json', '.y4m': 'video/x-yuv4mpeg',
};
export const STRICT_CSP = "default-src 'self'; script-src 'self'; worker-src 'self'; img-src 'self' data: blob:; media-src 'self' blob: mediastream:";

/**
 * Serves `mounts` ({urlPrefix: dir}) on `host` (another 127.x address is another site); resolves to {url, close}.
 * `isolated`: every response carries COOP/COEP, so pages are cross-origin isolated (WASM threads).
 */
export function serve(mounts = { '/': join(root, 'test/pages'), '/demo/': join(root, 'demo'), '/fixtures/': join(root, 'build/fixtures') }, { host = '127.0.0.1', isolated = false } = {}) {
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    let path = decodeURIComponent(url.pathname);
    const strict = path.startsWith('/strict/');
    if (strict) path = path.slice('/strict'.length);
    const prefix = Object.keys(mounts).filter((p) => path.startsWith(p)).sort((a, b) => b.length - a.length)[0];
    if (!prefix) return void res.writeHead(404).end('not found');
    let file = normalize(join(mounts[prefix], path.slice(prefix.length)));
    if (!file.startsWith(mounts[prefix])) return void res.writeHead(403).end();
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (!existsSync(file)) return void res.writeHead(404).end('not found');
    const headers = { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' };
    if (strict) headers['content-security-policy'] = STRICT_CSP;
    if (isolated) Object.assign(headers, { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' });
    res.writeHead(200, headers);
    createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => {
    server.listen(0, host, () => {
      const { port } = server.address();
      resolve({ url: `http://${host}:${port}`, close: () => new Promise((r) => server.close(r)) });
    });
  });
}
