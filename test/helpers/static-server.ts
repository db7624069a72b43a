// A plain static file server, as the simplest static host would be: GET of files under one folder with a
// Content-Type from the extension and nothing else (no COOP/COEP, no CSP), so a page it serves is not
// cross-origin isolated. It records what was asked for and what it answered.
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, resolve, sep } from 'node:path';

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
};

export interface StaticServer {
  url: string;
  /** Each request as 'STATUS /path', in order. */
  readonly log: string[];
  close(): Promise<void>;
}

export async function serveStatic(folder: string): Promise<StaticServer> {
  const root = resolve(folder);
  const log: string[] = [];
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?', 1)[0]);
    const file = resolve(join(root, path.endsWith('/') ? `${path}index.html` : path));
    const body = file.startsWith(root + sep) ? await readFile(file).catch(() => undefined) : undefined;
    log.push(`${body ? 200 : 404} ${path}`);
    if (!body) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, {
      'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
      'Content-Length': body.length,
    });
    res.end(body);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    log,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}
