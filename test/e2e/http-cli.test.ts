// Needs dist/ (npx tsc -p tsconfig.build.json): the CLI runs as a user would, against a local HTTP model.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCli, SHARED_IMAGES } from '../helpers/cli.js';
import {
  deadUrl,
  type ModelServer,
  type ModelServerOptions,
  startModelServer,
} from '../helpers/http-model-server.js';

const PHOTO = join(SHARED_IMAGES, 'dog.jpg');
const KEY = 'sk-e2e-7d1f0b2a-TOPSECRET';
let dir: string;
let servers: ModelServer[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sightline-http-'));
});
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

async function serve(options: ModelServerOptions = {}): Promise<ModelServer> {
  const server = await startModelServer(options);
  servers.push(server);
  return server;
}

const small = ['--input-size', '32', '--request-timeout', '2000', '--request-retries', '2'];

describe('sightline explain --model http://…', () => {
  it('explains a photo with occlusion through the endpoint, recovering from injected 500s', async () => {
    const server = await serve({
      fault: (r) => (r.firstTry && r.n % 4 === 2 ? { kind: 'status', status: 500 } : undefined),
    });
    const out = join(dir, 'occlusion.png');
    const result = await runCli(
      [
        'explain',
        PHOTO,
        '--model',
        server.url,
        '--method',
        'occlusion',
        '--window',
        '8',
        '--stride',
        '8',
        '--out',
        out,
        '--json',
        '--api-key-env',
        'SIGHTLINE_E2E_KEY',
        ...small,
      ],
      { env: { SIGHTLINE_E2E_KEY: KEY } },
    );
    expect(result.stderr).not.toContain('unexpected error');
    expect(result.code).toBe(0);
    const json = JSON.parse(result.stdout) as { predictions: { label: string }[]; target: { label: string } };
    expect(json.predictions.map((p) => p.label).sort()).toEqual(['bright', 'dark']);
    const photo = await sharp(PHOTO).metadata();
    const overlay = await sharp(out).metadata();
    expect(overlay.width).toBe(photo.width);
    // 16 windows + the unoccluded image in one predict batch, plus the prediction: all POSTs, faults retried.
    const posts = server.posts();
    expect(posts.filter((r) => r.firstTry).reduce((s, r) => s + r.inputs, 0)).toBe(1 + 17);
    expect(posts.some((r) => r.fault)).toBe(true);
    for (const r of server.requests) expect(r.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(result.stdout + result.stderr).not.toContain(KEY);
  });

  it('refuses a gradient method with the MISSING_CAPABILITY message before any POST', async () => {
    const server = await serve();
    const result = await runCli([
      'explain',
      PHOTO,
      '--model',
      server.url,
      '--method',
      'gradient',
      '--out',
      join(dir, 'g.png'),
      ...small,
    ]);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(
      /Method 'gradient' needs inputGradients, which this model does not offer; black-box methods \(.*occlusion.*\) work with any model/,
    );
    expect(server.posts()).toHaveLength(0);
  });

  it('keeps the API key and header values out of every output when the server refuses them', async () => {
    const body = JSON.stringify({ error: `key ${KEY} is not valid for org org-secret-77` });
    const server = await serve({ fault: () => ({ kind: 'status', status: 401, body }) });
    const result = await runCli(
      [
        'explain',
        PHOTO,
        '--model',
        server.url,
        '--method',
        'rise',
        '--masks',
        '16',
        '--out',
        join(dir, 'r.png'),
        '--api-key-env',
        'SIGHTLINE_E2E_KEY',
        '--header',
        'X-Org: org-secret-77',
        ...small,
      ],
      { env: { SIGHTLINE_E2E_KEY: KEY } },
    );
    expect(result.code).toBe(4);
    expect(result.stderr).toContain(
      `sightline: The model at ${server.url} refused the request: HTTP 401: "key [redacted] is not valid for org [redacted]"`,
    );
    expect(server.posts()[0].headers.authorization).toBe(`Bearer ${KEY}`);
    expect(server.posts()[0].headers['x-org']).toBe('org-secret-77');
    const printed = result.stdout + result.stderr;
    expect(printed).not.toContain(KEY);
    expect(printed).not.toContain('org-secret-77');
  });

  it('a dead endpoint fails with exit code 4, naming the URL and the last error', async () => {
    const url = await deadUrl();
    const result = await runCli([
      'explain',
      PHOTO,
      '--model',
      url,
      '--method',
      'occlusion',
      '--out',
      join(dir, 'd.png'),
      ...small,
    ]);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(
      new RegExp(
        `sightline: The model at ${url} did not answer after 3 tries in [\\d.]+ s; the last error: .*ECONNREFUSED`,
      ),
    );
  });

  it('--request-budget stops the run with its message', async () => {
    const server = await serve();
    const result = await runCli([
      'explain',
      PHOTO,
      '--model',
      server.url,
      '--method',
      'rise',
      '--masks',
      '64',
      '--request-budget',
      '5',
      '--out',
      join(dir, 'b.png'),
      ...small,
    ]);
    expect(result.code).toBe(4);
    expect(result.stderr).toContain(
      `The request budget of 5 requests to ${server.url} is spent (--request-budget); raise it, or ask the method for fewer model passes.`,
    );
    expect(server.requests.length).toBeLessThanOrEqual(5);
  });
});
