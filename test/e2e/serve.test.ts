import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SightlineError } from '../../src/core/errors.js';
import { defaultModelFiles } from '../../src/models/default-model.js';
import { type RunningServer, startServer } from '../../src/server/serve.js';
import { CLI, runCli } from '../helpers/cli.js';

const ISOLATION_HEADERS = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
  'cross-origin-resource-policy': 'same-origin',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'content-security-policy':
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' 'unsafe-eval'; worker-src 'self' blob:; img-src 'self' blob: data:; connect-src 'self' blob: data:; style-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'none'; form-action 'none'",
};

const INDEX = '<!doctype html><title>Sightline</title>\n';
const WASM = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
const MODULE = 'export const answer = 42;\n';
const SECRET = '{"name":"outside-the-root"}\n';

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** node:http with the path sent as written (fetch would normalise '..' and escapes away). */
function rawRequest(url: string, path: string, method = 'GET'): Promise<RawResponse> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path, method, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

let base: string;
let root: string;
let server: RunningServer;
const model = defaultModelFiles();

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'sightline-serve-'));
  root = join(base, 'web');
  await mkdir(join(root, 'assets'), { recursive: true });
  await writeFile(join(root, 'index.html'), INDEX);
  await writeFile(join(root, 'assets', 'ort-wasm-simd-threaded.wasm'), WASM);
  await writeFile(join(root, 'assets', 'app.mjs'), MODULE);
  await writeFile(join(base, 'package.json'), SECRET);
  server = await startServer({
    root,
    port: 0,
    files: { '/models/default/graph.lite': model.model, '/models/default/labels.txt': model.labels },
  });
});

afterAll(async () => {
  await server?.close();
});

describe('startServer', () => {
  it('listens on 127.0.0.1 at a free port when asked for port 0', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(server.url).not.toMatch(/:0\/$/);
  });

  it('serves index.html at / with the isolation and security headers', async () => {
    const res = await fetch(server.url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await res.text()).toBe(INDEX);
    for (const [name, value] of Object.entries(ISOLATION_HEADERS)) expect(res.headers.get(name)).toBe(value);
    expect(res.headers.get('etag')).toBeTruthy();
  });

  it('answers a matching If-None-Match with 304 and still isolates', async () => {
    const first = await fetch(server.url);
    const etag = first.headers.get('etag')!;
    await first.arrayBuffer();
    const res = await fetch(server.url, { headers: { 'If-None-Match': etag } });
    expect(res.status).toBe(304);
    for (const [name, value] of Object.entries(ISOLATION_HEADERS)) expect(res.headers.get(name)).toBe(value);
  });

  it('sends .wasm as application/wasm and .mjs as text/javascript', async () => {
    const wasm = await fetch(new URL('assets/ort-wasm-simd-threaded.wasm', server.url));
    expect(wasm.status).toBe(200);
    expect(wasm.headers.get('content-type')).toBe('application/wasm');
    expect(new Uint8Array(await wasm.arrayBuffer())).toEqual(WASM);
    const mjs = await fetch(new URL('assets/app.mjs', server.url));
    expect(mjs.status).toBe(200);
    expect(mjs.headers.get('content-type')).toBe('text/javascript');
    expect(await mjs.text()).toBe(MODULE);
  });

  it('isolates 404 responses too', async () => {
    const res = await fetch(new URL('nope.js', server.url));
    expect(res.status).toBe(404);
    for (const [name, value] of Object.entries(ISOLATION_HEADERS)) expect(res.headers.get(name)).toBe(value);
  });

  it.each([
    ['/models/default/graph.lite', model.model, 'application/octet-stream'],
    ['/models/default/labels.txt', model.labels, 'text/plain; charset=utf-8'],
  ])('serves %s byte for byte from the default model', async (path, file, type) => {
    const expected = await readFile(file);
    const res = await fetch(new URL(path, server.url));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(type);
    expect(res.headers.get('content-length')).toBe(String(expected.length));
    for (const [name, value] of Object.entries(ISOLATION_HEADERS)) expect(res.headers.get(name)).toBe(value);
    const body = Buffer.from(await res.arrayBuffer());
    expect(body.length).toBe(expected.length);
    expect(body.equals(expected)).toBe(true);
  });

  it("serves the labels file as shipped: 1001 lines, index 0 named 'dummy'", async () => {
    const text = await (await fetch(new URL('/models/default/labels.txt', server.url))).text();
    const lines = text.split('\n');
    expect(lines[0]).toBe('dummy');
    expect(lines).toHaveLength(1001);
  });

  it('answers HEAD with the headers and no body', async () => {
    const size = (await readFile(model.model)).length;
    const mapped = await rawRequest(server.url, '/models/default/graph.lite', 'HEAD');
    expect(mapped.status).toBe(200);
    expect(mapped.headers['content-length']).toBe(String(size));
    expect(mapped.headers['content-type']).toBe('application/octet-stream');
    expect(mapped.headers['cross-origin-embedder-policy']).toBe('require-corp');
    expect(mapped.body.length).toBe(0);
    const statics = await rawRequest(server.url, '/assets/ort-wasm-simd-threaded.wasm', 'HEAD');
    expect(statics.status).toBe(200);
    expect(statics.headers['content-length']).toBe(String(WASM.length));
    expect(statics.headers['content-type']).toBe('application/wasm');
    expect(statics.body.length).toBe(0);
  });

  it('refuses methods other than GET and HEAD with 405', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS']) {
      const res = await rawRequest(server.url, '/', method);
      expect(res.status).toBe(405);
      expect(res.headers.allow).toBe('GET, HEAD');
      expect(res.headers['cross-origin-opener-policy']).toBe('same-origin');
    }
  });

  it.each([
    '/../package.json',
    '/assets/../../package.json',
    '/%2e%2e/package.json',
    '/%2E%2E/package.json',
    '/..%2fpackage.json',
    '/..%2Fpackage.json',
    '/%2e%2e%2fpackage.json',
    '/..%5cpackage.json',
    '/..\\package.json',
    '/%252e%252e/package.json',
    '/assets%2f..%2f..%2fpackage.json',
    '/%00/../package.json',
    '/%E0%A4%A',
  ])('never serves a file outside the root for %s', async (path) => {
    const res = await rawRequest(server.url, path);
    expect([400, 404]).toContain(res.status);
    expect(res.body.toString()).not.toContain('outside-the-root');
    expect(res.headers['cross-origin-embedder-policy']).toBe('require-corp');
  });

  it('rejects a port in use with a message that says what to do', async () => {
    const { port } = new URL(server.url);
    const error = await startServer({ root, port: Number(port) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SightlineError);
    expect((error as SightlineError).code).toBe('SERVER');
    expect((error as SightlineError).message).toBe(
      `Port ${port} on 127.0.0.1 is already in use; pass --port <another> (or --port 0 for any free port).`,
    );
  });

  it('rejects a root without index.html: the web app is not built', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'sightline-serve-empty-'));
    const error = await startServer({ root: empty, port: 0 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SightlineError);
    expect((error as SightlineError).code).toBe('SERVER');
    expect((error as SightlineError).message).toMatch(/web app is not built.*index\.html.*npm run build/);
  });

  it('rejects a mapped file that does not exist', async () => {
    const error = await startServer({
      root,
      port: 0,
      files: { '/models/default/graph.lite': join(base, 'missing.lite') },
    }).catch((e: unknown) => e);
    expect((error as SightlineError).code).toBe('SERVER');
    expect((error as SightlineError).message).toMatch(/missing\.lite/);
  });
});

describe('sightline serve', () => {
  it.each(['SIGINT', 'SIGTERM'] as const)(
    'prints the URL, serves the app and the default model, and exits 0 on %s',
    async (signal) => {
      const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--root', root]);
      let stdout = '';
      let stderr = '';
      child.stderr.on('data', (d) => {
        stderr += d;
      });
      const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (d) => {
          stdout += d;
          const m = /running at (http:\/\/\S+)/.exec(stdout);
          if (m) resolve(m[1]);
        });
        child.on('close', () => reject(new Error(`serve exited early:\n${stdout}${stderr}`)));
      });
      try {
        expect(stdout).toMatch(
          /^Sightline is running at http:\/\/127\.0\.0\.1:\d+\/ — the photo and the model stay in your browser\. Press Ctrl-C to stop\.\n$/,
        );
        expect(url).not.toMatch(/:0\//);
        expect(stderr).not.toMatch(/Warning/);
        const index = await fetch(url);
        expect(index.status).toBe(200);
        expect(await index.text()).toBe(INDEX);
        const labels = await fetch(new URL('/models/default/labels.txt', url));
        expect(labels.status).toBe(200);
        expect((await labels.text()).split('\n', 1)[0]).toBe('dummy');
      } finally {
        child.kill(signal);
      }
      expect(await exited).toBe(0);
    },
  );

  it('rejects --port abc as a usage error (exit 2)', async () => {
    const result = await runCli(['serve', '--port', 'abc']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--port.*'abc'.*0 to 65535/);
  });

  it('rejects --port 65536 as a usage error (exit 2)', async () => {
    const result = await runCli(['serve', '--port', '65536']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/0 to 65535/);
  });

  it('says the web app is not built when the root has no index.html (exit 5)', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'sightline-serve-empty-'));
    const result = await runCli(['serve', '--port', '0', '--root', empty]);
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(/web app is not built.*npm run build/);
    expect(result.stderr).not.toMatch(/unexpected error|at .*\.js:\d+/);
  });
});
