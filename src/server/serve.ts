import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { type AddressInfo, isIP } from 'node:net';
import { extname, join, relative, resolve, sep } from 'node:path';
import sirv from 'sirv';
import { invalidArgument, SightlineError } from '../core/errors.js';

/**
 * What the served page may load: only this origin (plus blob:/data: URLs it makes itself), WebAssembly
 * compilation for onnxruntime-web, and inline styles. The photo and the model never leave the browser.
 * 'unsafe-eval' is there because protobufjs, which reads and writes the ONNX files, compiles its decoders
 * with `new Function`; connect-src 'self' is what keeps every request on this machine.
 */
export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' 'unsafe-eval'; worker-src 'self' blob:; img-src 'self' blob: data:; connect-src 'self' blob: data:; style-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'none'; form-action 'none'";

/**
 * Sent with every response, errors included. COOP + COEP make the page cross-origin isolated, which is what
 * lets onnxruntime-web use SharedArrayBuffer and so WebAssembly threads.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
};

/** Types sirv's table would also give, pinned here because the browser refuses wasm/modules without them. */
const PINNED_TYPES: Readonly<Record<string, string>> = {
  '.wasm': 'application/wasm',
  '.mjs': 'text/javascript',
  '.js': 'text/javascript',
};

export interface ServerOptions {
  /** The built web app; must contain index.html. */
  root: string;
  /** Address to listen on (default 127.0.0.1). */
  host?: string;
  /** Port to listen on (default 8080; 0 = any free port). */
  port?: number;
  /** Fixed URL paths (e.g. '/models/default/graph.lite') served from files outside `root`. */
  files?: Record<string, string>;
  /**
   * Host names requests may be addressed to besides localhost, IP addresses and `host` (see hostAllowed):
   * e.g. the name a reverse proxy or the local network uses for this machine.
   */
  allowedHosts?: readonly string[];
}

export interface RunningServer {
  /** Where to open the app, with the real port, e.g. http://127.0.0.1:8080/. */
  url: string;
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
}

/** Serves the built web app (and the mapped files) over HTTP, cross-origin isolated. Logs nothing. */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const root = resolve(options.root);
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 8080;
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw invalidArgument('port', 'an integer from 0 to 65535', port);
  await requireFile(
    join(root, 'index.html'),
    `The web app is not built: '${join(root, 'index.html')}' is missing. Run \`npm run build\` first.`,
  );
  const files = new Map<string, string>();
  for (const [urlPath, file] of Object.entries(options.files ?? {})) {
    if (!urlPath.startsWith('/') || safePathname(urlPath) !== urlPath)
      throw invalidArgument('files', "URL paths like '/models/default/labels.txt'", urlPath);
    await requireFile(file, `Cannot serve '${urlPath}': the file '${file}' does not exist.`);
    files.set(urlPath, file);
  }

  // Each request is resolved here, symlinks followed, and only a regular file inside the root's real path is
  // handed to sirv, by its real path. sirv's production mode would walk the root at start-up, following links out
  // of it (and failing on a dangling one), so it runs in its per-request mode on the checked path instead.
  const realRoot = await realpath(root);
  const allowedHosts = new Set(
    [host, ...(options.allowedHosts ?? [])].map((h) => normalizeHost(h)).filter((h) => h !== ''),
  );
  const statics = sirv(realRoot, {
    dev: true,
    extensions: [],
    etag: true,
    setHeaders: (res, pathname) => {
      const type = PINNED_TYPES[extname(pathname).toLowerCase()];
      if (type) res.setHeader('Content-Type', type);
    },
    onNoMatch: (_req, res) => sendText(res, 404, 'Not found'),
  });

  const server = createServer((req, res) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    if (!hostAllowed(req.headers.host, allowedHosts)) {
      return sendText(
        res,
        403,
        "Forbidden: this server answers requests addressed to localhost or to an IP address only (the Host header names another host). To allow a host name, start it with 'sightline serve --allow-host <name>'.",
      );
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return sendText(res, 405, 'Method not allowed');
    }
    const pathname = safePathname(req.url ?? '');
    if (pathname === undefined) return sendText(res, 400, 'Bad request');
    const file = files.get(pathname);
    if (file !== undefined) {
      sendFile(req, res, file).catch(() => {
        if (!res.headersSent) sendText(res, 404, 'Not found');
        else res.destroy();
      });
      return;
    }
    // Every response is whole: sirv's Range handling is partial and the app never asks for ranges.
    delete req.headers.range;
    staticPath(realRoot, pathname).then(
      (path) => {
        if (path === undefined) return sendText(res, 404, 'Not found');
        req.url = path;
        statics(req, res);
      },
      () => sendText(res, 404, 'Not found'),
    );
  });

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', (cause: NodeJS.ErrnoException) => reject(listenError(cause, host, port)));
    server.listen(port, host, () => resolveListen());
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${urlHost(address.address)}:${address.port}/`,
    close: () =>
      new Promise<void>((resolveClose, reject) => {
        server.close((error) => (error ? reject(error) : resolveClose()));
        server.closeAllConnections();
      }),
  };
}

/**
 * The decoded path of a request target, or undefined for anything that could name a file outside the root:
 * a target not starting with '/', malformed escapes, encoded or back slashes, NUL, or a '.'/'..' segment.
 */
function safePathname(target: string): string | undefined {
  const raw = target.split('?', 1)[0];
  if (!raw.startsWith('/') || /%(2f|5c)/i.test(raw)) return undefined;
  let path: string;
  try {
    path = decodeURIComponent(raw);
  } catch {
    return undefined;
  }
  if (/[\\\0]/.test(path) || path.split('/').some((s) => s === '.' || s === '..')) return undefined;
  return path;
}

/**
 * The URL path of the file a request names, relative to the real root and with every link resolved, or
 * undefined when there is none: a dangling link, a link out of the root, a folder, a FIFO or device, or a
 * dot-file (which sirv's production mode hid too). A path ending in '/' names its index.html.
 */
async function staticPath(realRoot: string, pathname: string): Promise<string | undefined> {
  const wanted = pathname.endsWith('/') ? `${pathname}index.html` : pathname;
  if (wanted.split('/').some((s) => s.startsWith('.'))) return undefined;
  const real = await realpath(join(realRoot, wanted)).catch(() => undefined);
  if (real === undefined || !real.startsWith(realRoot.endsWith(sep) ? realRoot : realRoot + sep))
    return undefined;
  if (!(await stat(real)).isFile()) return undefined;
  // sirv reads the path back with decodeURI, which leaves the escapes of reserved characters (+ @ = , ; $ &) as
  // they are, so encodeURI writes those raw; '?' and '#' would end sirv's path early. Unless the path sirv reads
  // is exactly the path checked, sirv would serve another file (a twin named 'a%2Bb.js' or 'a' beside 'a+b.js'
  // or 'a?b.js'), links unchecked: such a name is not found instead.
  const checked = relative(realRoot, real).split(sep).join('/');
  if (/[?#]/.test(checked)) return undefined;
  return `/${encodeURI(checked)}`;
}

/**
 * Whether a request's Host header names this server. A page on another site can reach a loopback server by
 * pointing its own name at 127.0.0.1 (DNS rebinding); the browser then sends that name as Host. IP literals
 * cannot be rebound, so they pass, as do localhost (and *.localhost, which resolves to loopback only) and the
 * names the server was started with; webpack-dev-server's allowedHosts 'auto' draws the same line.
 */
function hostAllowed(header: string | undefined, allowed: ReadonlySet<string>): boolean {
  if (!header) return false;
  const host = normalizeHost(header);
  if (host === '') return false;
  if (isIP(host) !== 0) return true;
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  return allowed.has(host);
}

/** A Host header or host name without its port, brackets, case or trailing dot: '[::1]:8080' → '::1'. */
function normalizeHost(value: string): string {
  let host = value.trim().toLowerCase();
  if (host.startsWith('[')) host = host.slice(1, host.indexOf(']') >= 0 ? host.indexOf(']') : undefined);
  else if (host.indexOf(':') === host.lastIndexOf(':')) host = host.replace(/:\d*$/, '');
  return host.replace(/\.$/, '');
}

async function sendFile(req: IncomingMessage, res: ServerResponse, file: string): Promise<void> {
  const stats = await stat(file);
  const etag = `W/"${stats.size}-${stats.mtime.getTime()}"`;
  res.setHeader('ETag', etag);
  res.setHeader('Last-Modified', stats.mtime.toUTCString());
  res.setHeader('Cache-Control', 'no-cache');
  if (req.headers['if-none-match'] === etag) {
    res.writeHead(304).end();
    return;
  }
  res.writeHead(200, {
    'Content-Type':
      extname(file).toLowerCase() === '.txt' ? 'text/plain; charset=utf-8' : 'application/octet-stream',
    'Content-Length': stats.size,
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  createReadStream(file)
    .on('error', () => res.destroy())
    .pipe(res);
}

function sendText(res: ServerResponse, status: number, text: string): void {
  const body = `${text}\n`;
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

async function requireFile(file: string, message: string): Promise<void> {
  const stats = await stat(file).catch(() => undefined);
  if (!stats?.isFile()) throw new SightlineError('SERVER', message, { file });
}

function listenError(cause: NodeJS.ErrnoException, host: string, port: number): SightlineError {
  const where = `Port ${port} on ${host}`;
  const message =
    cause.code === 'EADDRINUSE'
      ? `${where} is already in use; pass --port <another> (or --port 0 for any free port).`
      : cause.code === 'EACCES'
        ? `${where} needs more privileges than this process has; pass --port 1024 or above (or --port 0 for any free port).`
        : cause.code === 'EADDRNOTAVAIL' || cause.code === 'ENOTFOUND' || cause.code === 'EAI_AGAIN'
          ? `Cannot listen on host '${host}': it is not an address of this machine; pass --host 127.0.0.1 (or another local address).`
          : `Cannot listen on port ${port} on ${host}: ${cause.message}`;
  return new SightlineError('SERVER', message, { host, port, errno: cause.code }, { cause });
}

/** The host part of a URL for a bound address; the unspecified addresses are opened through loopback. */
function urlHost(address: string): string {
  if (address === '0.0.0.0') return '127.0.0.1';
  if (address === '::') return '[::1]';
  return address.includes(':') ? `[${address}]` : address;
}
