// The web app's server against a hostile root (links out of it, dangling links, a FIFO, dot-files) and hostile
// pages (DNS rebinding: a request addressed to another site's name). Real server on port 0, real requests.
import { execFileSync, spawn } from 'node:child_process';
import { mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../src/server/serve.js';
import { CLI } from '../helpers/cli.js';

const INDEX = '<!doctype html><title>Sightline</title>\n';
const APP = 'export const answer = 42;\n';
const SECRET = 'password=outside-the-root\n';

interface Reply {
  status: number;
  body: string;
}

/** A GET with the path and Host header sent as written. */
function get(url: string, path: string, host?: string): Promise<Reply> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      { hostname, port, path, agent: false, headers: host === undefined ? {} : { host } },
      (res) => {
        let body = '';
        res.setEncoding('latin1');
        res.on('data', (c: string) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.setTimeout(5000, () => req.destroy(new Error(`no answer for ${path}`)));
    req.on('error', reject);
    req.end();
  });
}

let base: string;
let root: string;
let server: RunningServer;

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'sightline-serve-hostile-'));
  root = join(base, 'web');
  await mkdir(join(root, 'assets'), { recursive: true });
  await writeFile(join(root, 'index.html'), INDEX);
  await writeFile(join(root, 'assets', 'app.mjs'), APP);
  await writeFile(join(root, '.env'), SECRET);
  await writeFile(join(base, 'secret.txt'), SECRET);
  await symlink(join(base, 'secret.txt'), join(root, 'leak.txt'));
  await symlink('..', join(root, 'up'));
  await symlink('/etc', join(root, 'etc'));
  await symlink(join(base, 'nothing-here.js'), join(root, 'dangling.js'));
  await symlink(join(root, 'assets', 'app.mjs'), join(root, 'alias.mjs'));
  for (const name of ['icon@2x.png', 'a+b.js', 'a b.js', '100%.txt', 'x=1,y;$&.js'])
    await writeFile(join(root, 'assets', name), APP);
  // Twins: a checked file whose name holds a reserved character, and a link out named as that name escaped (or
  // cut at '?'). The file asked for must be the file served, never its twin.
  await mkdir(join(root, 'twins'));
  for (const name of ['c+d.js', 'q?x.js', 'h#x.js']) await writeFile(join(root, 'twins', name), APP);
  for (const name of ['c%2Bd.js', 'q', 'h'])
    await symlink(join(base, 'secret.txt'), join(root, 'twins', name));
  execFileSync('mkfifo', [join(root, 'pipe.js')]);
  // sirv's start-up walk used to follow the links and throw on the dangling one: starting is the first test.
  server = await startServer({ root, port: 0, allowedHosts: ['studio.lan'] });
});

afterAll(async () => {
  await server?.close();
});

describe('a root holding links', () => {
  it('serves files and links that stay inside the root', async () => {
    expect(await get(server.url, '/')).toEqual({ status: 200, body: INDEX });
    expect(await get(server.url, '/assets/app.mjs')).toEqual({ status: 200, body: APP });
    expect(await get(server.url, '/alias.mjs')).toEqual({ status: 200, body: APP });
  });

  it.each([
    '/assets/icon@2x.png',
    '/assets/a+b.js',
    '/assets/a%2Bb.js',
    '/assets/a%20b.js',
    '/assets/100%25.txt',
    '/assets/x=1,y;$&.js',
  ])('serves %s, a file whose name holds characters a URL reserves', async (path) => {
    expect(await get(server.url, path)).toEqual({ status: 200, body: APP });
  });

  it.each([
    ['/twins/c+d.js', 200],
    ['/twins/c%2Bd.js', 200],
    ['/twins/q%3Fx.js', 404],
    ['/twins/h%23x.js', 404],
  ])(
    '%s is the file asked for or nothing, never a link out that sirv would read by another name',
    async (path, status) => {
      const reply = await get(server.url, path);
      expect(reply.body).not.toContain(SECRET);
      expect(reply).toEqual(status === 200 ? { status, body: APP } : { status, body: 'Not found\n' });
    },
  );

  it.each([
    '/leak.txt',
    '/up/secret.txt',
    '/etc/passwd',
    '/etc/hostname',
    '/dangling.js',
    '/pipe.js',
    '/.env',
    '/assets',
    '/up/',
  ])('answers %s with 404 and goes on serving', async (path) => {
    const reply = await get(server.url, path);
    expect(reply).toEqual({ status: 404, body: 'Not found\n' });
    expect((await get(server.url, '/')).status).toBe(200);
  });
});

describe('the Host header', () => {
  it.each([
    'localhost',
    'LOCALHOST:8080',
    '127.0.0.1:1234',
    '[::1]:8080',
    'app.localhost:8080',
    '192.168.1.20:8080',
    'studio.lan:8080',
    'Studio.LAN.',
  ])('%s is answered', async (host) => {
    expect(await get(server.url, '/', host)).toEqual({ status: 200, body: INDEX });
  });

  it.each([
    'evil.example',
    'evil.example:8080',
    'localhost.evil.example',
    '127.0.0.1.nip.io',
    'studio.lan.evil.example',
  ])('%s (a rebound name) gets 403 and no file', async (host) => {
    const reply = await get(server.url, '/assets/app.mjs', host);
    expect(reply.status).toBe(403);
    expect(reply.body).toMatch(
      /^Forbidden: this server answers requests addressed to localhost or to an IP address only/,
    );
    expect(reply.body).toContain("'sightline serve --allow-host <name>'");
    expect(reply.body).not.toContain(APP);
  });

  it('a request with no Host header at all gets no file', async () => {
    const { port } = new URL(server.url);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () =>
        socket.end('GET /assets/app.mjs HTTP/1.0\r\n\r\n'),
      );
      let text = '';
      socket.setEncoding('latin1');
      socket.on('data', (d: string) => {
        text += d;
      });
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.[01] 403 /);
    expect(answer).not.toContain(APP);
  });

  it('sightline serve --allow-host adds a name; others are refused', async () => {
    const child = spawn(process.execPath, [
      CLI,
      'serve',
      '--port',
      '0',
      '--root',
      root,
      '--allow-host',
      'box.home',
    ]);
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let stdout = '';
        child.stdout.on('data', (d) => {
          stdout += d;
          const m = /running at (http:\/\/\S+)/.exec(stdout);
          if (m) resolve(m[1]);
        });
        child.on('close', () => reject(new Error(`serve exited early: ${stdout}`)));
      });
      expect((await get(url, '/', 'box.home:8080')).status).toBe(200);
      expect((await get(url, '/', 'evil.example')).status).toBe(403);
      expect((await get(url, '/leak.txt')).status).toBe(404);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });
});
