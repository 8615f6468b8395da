/**
 * Serves this repository on 127.0.0.1 with the headers that make a page cross-origin isolated
 * (Cross-Origin-Opener-Policy: same-origin, Cross-Origin-Embedder-Policy: require-corp), and prints the demo's URL.
 *
 *   npm run build && npx tsx examples/browser/serve.ts        (PORT=8080 by default; PORT=0 picks a free one)
 *   ISOLATED=0 npx tsx examples/browser/serve.ts               the same page without the headers
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..', '..');
const isolated = process.env.ISOLATED !== '0';
const port = Number(process.env.PORT ?? 8080);

const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

if (!existsSync(path.join(root, 'dist', 'pool', 'index.js'))) {
  console.error('dist/ is missing: run `npm run build` first (the page imports the built package).');
  process.exit(1);
}

const server = createServer((request, response) => {
  const { pathname } = new URL(request.url ?? '/', 'http://127.0.0.1');
  if (pathname === '/') {
    response.writeHead(302, { location: '/examples/browser/' }).end();
    return;
  }
  let file = path.join(root, path.normalize(decodeURIComponent(pathname)));
  if (file !== root && !file.startsWith(root + path.sep)) {
    response.writeHead(403).end();
    return;
  }
  if (existsSync(file) && statSync(file).isDirectory()) file = path.join(file, 'index.html');
  if (!existsSync(file) || !statSync(file).isFile()) {
    response.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${pathname}`);
    return;
  }
  const headers: Record<string, string> = {
    'content-type': types[path.extname(file)] ?? 'application/octet-stream',
    'cache-control': 'no-store',
  };
  if (isolated) {
    headers['cross-origin-opener-policy'] = 'same-origin';
    headers['cross-origin-embedder-policy'] = 'require-corp';
    headers['cross-origin-resource-policy'] = 'same-origin';
  }
  response.writeHead(200, headers);
  createReadStream(file).pipe(response);
});

server.listen(port, '127.0.0.1', () => {
  const { port: actual } = server.address() as AddressInfo;
  console.log(`weft browser demo: http://127.0.0.1:${actual}/examples/browser/`);
  console.log(isolated ? 'cross-origin isolated (COOP/COEP sent)' : 'not cross-origin isolated (ISOLATED=0)');
  console.log('Ctrl+C to stop.');
});
