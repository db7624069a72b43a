// A private Debian redis-server for one test file: its own loopback port and temp folder, started and stopped by
// the test (never a shared server). Starting fails within seconds, with redis's own words, rather than hanging.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

export const REDIS_SERVER = process.env.REDIS_SERVER ?? '/usr/bin/redis-server';

export interface TestRedis {
  readonly port: number;
  /** redis://[:password@]127.0.0.1:port/0 */
  readonly url: string;
  readonly dir: string;
  /** Stops redis (SIGTERM: AOF flushed, as a service restart does) and starts it again on the same port. */
  restart(): Promise<void>;
  /** A client for the test's own checks. */
  client(): Redis;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export interface RedisOptions {
  password?: string;
  appendonly?: boolean;
  /** Serve TLS only (rediss://), with this certificate and key (PEM files); clients trust `cert` as their CA. */
  tls?: { cert: string; key: string };
}

export async function startRedis(options: RedisOptions = {}): Promise<TestRedis> {
  const dir = await mkdtemp(join(tmpdir(), 'sightline-redis-'));
  const port = await freePort();
  const tls = options.tls;
  const args = [
    ...(tls
      ? ['--port', '0', '--tls-port', String(port), '--tls-cert-file', tls.cert, '--tls-key-file', tls.key]
      : ['--port', String(port)]),
    ...(tls ? ['--tls-ca-cert-file', tls.cert, '--tls-auth-clients', 'no'] : []),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    options.appendonly ? 'yes' : 'no',
    '--appendfsync',
    'always',
    ...(options.password ? ['--requirepass', options.password] : []),
  ];
  let child: ChildProcess | undefined;
  const auth = options.password ? `:${encodeURIComponent(options.password)}@` : '';
  const url = `${tls ? 'rediss' : 'redis'}://${auth}127.0.0.1:${port}/0`;
  const ca = tls ? await readFile(tls.cert) : undefined;
  const tlsOptions = ca ? { tls: { ca } } : {};
  const client = () => new Redis(url, { maxRetriesPerRequest: 1, ...tlsOptions });

  const launch = async () => {
    const proc = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    let output = '';
    proc.stdout?.on('data', (d) => {
      output += d;
    });
    proc.stderr?.on('data', (d) => {
      output += d;
    });
    const exited = new Promise<never>((_, reject) => {
      proc.on('error', reject);
      proc.on('exit', (code) => reject(new Error(`redis-server exited (${code}): ${output.slice(-500)}`)));
    });
    exited.catch(() => {});
    const deadline = Date.now() + 10_000;
    for (;;) {
      const probe = new Redis(url, {
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
        lazyConnect: true,
        ...tlsOptions,
      });
      probe.on('error', () => {});
      const ok = await Promise.race([
        probe
          .connect()
          .then(() => probe.ping())
          .then(() => true)
          .catch(() => false),
        exited,
      ]).finally(() => probe.disconnect());
      if (ok) return;
      if (Date.now() > deadline) {
        proc.kill('SIGKILL');
        throw new Error(`redis-server did not answer PING within 10 s: ${output.slice(-500)}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const halt = async () => {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(timer);
  };
  await launch();
  return {
    port,
    url,
    dir,
    client,
    async restart() {
      await halt();
      await launch();
    },
    async stop() {
      await halt();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A self-signed certificate for 127.0.0.1 (openssl), for a TLS redis and the clients that trust it. */
export async function selfSignedCert(dir: string): Promise<{ cert: string; key: string }> {
  const cert = join(dir, 'redis.crt');
  const key = join(dir, 'redis.key');
  const args = ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1'];
  const openssl = spawn(
    'openssl',
    [...args, '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert],
    {
      stdio: 'ignore',
    },
  );
  const code = await new Promise<number | null>((resolve, reject) => {
    openssl.on('error', reject);
    openssl.on('exit', resolve);
  });
  if (code !== 0) throw new Error(`openssl exited with ${code}`);
  return { cert, key };
}
