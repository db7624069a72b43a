// Needs dist/ (npm run build). A hostile HTTP model echoes every credential Sightline sends (the API key, a
// Basic password, a custom header, the URL's query value) into every field it answers: metadata, scores, error
// bodies and Retry-After. None of them may show in stdout, stderr or any file the CLI writes.
import { mkdir, mkdtemp, readdir, readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { DEFAULT_PATCH, patchScores } from '../helpers/http-model-server.js';

const API_KEY = 'sk-live-4f9a1c77e0b2-APIKEY';
const USER = 'alice-the-user';
const PASSWORD = 'hunter2-PASSWORD-9x7';
const BASIC = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;
const CUSTOM = 'custom-header-value-31337';
const QUERY = 'query-token-0b5e6d';
/** Every string that must never show, encoded and decoded. */
const SECRETS = [API_KEY, PASSWORD, `${USER}:${PASSWORD}`, BASIC.slice(6), CUSTOM, QUERY];

/** What the server answers in each mode, keyed by the first path segment. */
type Mode =
  | 'labels' // good sizes and scores, labels made of the echo
  | 'metadata' // every metadata field is the echo
  | 'metadata-401' // the GET is refused with the echo as the error
  | 'huge' // metadata declaring a 60000 × 60000 input
  | 'scores' // every score is the echo
  | 'not-json' // the POST answer is the echo as plain text
  | 'refused' // POSTs are answered 401 with the echo
  | 'failing'; // POSTs are answered 503 with the echo, Retry-After included

function echo(req: IncomingMessage, url: URL): string {
  const auth = String(req.headers.authorization ?? '');
  const basic = /^Basic (.*)$/.exec(auth)?.[1];
  const decoded = basic ? Buffer.from(basic, 'base64').toString('utf8') : '';
  return [
    `authorization=${auth}`,
    `x-api-key=${req.headers['x-api-key']}`,
    `x-custom=${req.headers['x-custom']}`,
    `token=${url.searchParams.get('token')}`,
    `credentials=${decoded}`,
    `password=${decoded.slice(decoded.indexOf(':') + 1)}`,
  ].join(' ');
}

async function scoresFor(body: string): Promise<number[][]> {
  const { inputs } = JSON.parse(body) as { inputs: { png: string }[] };
  return Promise.all(
    inputs.map(async ({ png }) => {
      const { data, info } = await sharp(Buffer.from(png, 'base64'))
        .raw()
        .toBuffer({ resolveWithObject: true });
      return patchScores((x, y, c) => data[(y * info.width + x) * info.channels + c] - 128, DEFAULT_PATCH);
    }),
  );
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const mode = url.pathname.split('/')[1] as Mode;
  const e = echo(req, url);
  // Every answer carries the echo in its headers too.
  const send = (status: number, body: string, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', 'x-echo': e, ...headers });
    res.end(body);
  };
  if (req.method === 'GET') {
    if (mode === 'metadata')
      return send(
        200,
        JSON.stringify(
          Object.fromEntries(
            ['labels', 'width', 'height', 'input', 'layout', 'mean', 'std', 'outputs', 'maxBatch'].map(
              (f) => [f, e],
            ),
          ),
        ),
      );
    if (mode === 'metadata-401') return send(401, JSON.stringify({ error: e, detail: e }));
    if (mode === 'huge') return send(200, JSON.stringify({ labels: [e, e], width: 60000, height: 60000 }));
    return send(200, JSON.stringify({ labels: [`bright ${e}`, `dark ${e}`], width: 16, height: 16 }));
  }
  if (mode === 'scores') return send(200, JSON.stringify({ scores: [[e, e]], error: e, message: e }));
  if (mode === 'not-json') return send(200, `${e} ${e}`);
  if (mode === 'refused') return send(401, JSON.stringify({ error: { message: e } }));
  if (mode === 'failing') return send(503, JSON.stringify({ message: e }), { 'retry-after': e });
  send(200, JSON.stringify({ scores: await scoresFor(Buffer.concat(chunks).toString('utf8')) }));
}

let server: Server;
let base: string;
let dir: string;
let photos: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    handle(req, res).catch(() => {
      res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  dir = await mkdtemp(join(tmpdir(), 'sightline-http-secrets-'));
  photos = join(dir, 'photos');
  await mkdir(photos);
  for (const [i, level] of [200, 60].entries()) {
    await sharp({
      create: { width: 24, height: 24, channels: 3, background: { r: level, g: level, b: level } },
    })
      .png()
      .toFile(join(photos, `p${i}.png`));
  }
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => server?.close(() => resolve()));
});

const credentials = [
  '--api-key-env',
  'SIGHTLINE_SECRETS_KEY',
  '--api-key-header',
  'X-Api-Key',
  '--header',
  `Authorization: ${BASIC}`,
  '--header',
  `X-Custom: ${CUSTOM}`,
  '--request-retries',
  '1',
  '--request-timeout',
  '5000',
];

function modelUrl(mode: Mode): string {
  return `${base}/${mode}/predict?token=${QUERY}`;
}

async function run(args: string[]) {
  return runCli([...args, ...credentials], { env: { SIGHTLINE_SECRETS_KEY: API_KEY } });
}

/** Every file under `folder`, read as text. */
async function filesUnder(folder: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const entry of await readdir(folder, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    out.set(path, await readFile(path, 'latin1'));
  }
  return out;
}

function expectNoSecret(where: string, text: string): void {
  for (const secret of SECRETS) expect(text.includes(secret), `${where} holds '${secret}'`).toBe(false);
}

describe('no credential shows, whatever the server echoes', () => {
  it('explain: labels made of the echo are printed redacted', async () => {
    const result = await run([
      'explain',
      join(photos, 'p0.png'),
      '--model',
      modelUrl('labels'),
      '--method',
      'occlusion',
      '--window',
      '8',
      '--stride',
      '8',
      '--out',
      join(dir, 'labels.png'),
      '--json',
    ]);
    expect(result.code, result.stderr).toBe(0);
    const json = JSON.parse(result.stdout) as { predictions: { label: string }[] };
    // The labels still say what they are, with every credential cut out.
    expect(json.predictions.map((p) => p.label).sort()).toEqual([
      'bright authorization=[redacted] x-api-key=[redacted] x-custom=[redacted] token=[redacted] credentials=[redacted] password=[redacted]',
      'dark authorization=[redacted] x-api-key=[redacted] x-custom=[redacted] token=[redacted] credentials=[redacted] password=[redacted]',
    ]);
    expectNoSecret('stdout', result.stdout);
    expectNoSecret('stderr', result.stderr);
  });

  it.each([
    ['metadata', 4, /'labels' \(an array of 1\)|'labels' "authorization=\[redacted\]/],
    ['metadata-401', 4, /refused the request: HTTP 401: "authorization=\[redacted\]/],
    ['scores', 4, /scores\[0\]\[0\] is a string; expected finite numbers/],
    ['not-json', 4, /the answer is not JSON \(it starts "authorization=\[redacted\]/],
    ['refused', 4, /refused the request: HTTP 401: "authorization=\[redacted\]/],
    ['failing', 4, /did not answer after 2 tries .* HTTP 503: "authorization=\[redacted\]/],
  ] as const)(
    'explain against a server answering %s: exit %i, the message redacted',
    async (mode, code, message) => {
      const result = await run([
        'explain',
        join(photos, 'p0.png'),
        '--model',
        modelUrl(mode),
        '--method',
        'occlusion',
        '--out',
        join(dir, `${mode}.png`),
      ]);
      expect(result.code, result.stderr).toBe(code);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).not.toMatch(/\n\s+at /);
      expectNoSecret('stdout', result.stdout);
      expectNoSecret('stderr', result.stderr);
    },
  );

  it('metadata declaring a 60000 × 60000 input is refused, naming the limit', async () => {
    const result = await run([
      'explain',
      join(photos, 'p0.png'),
      '--model',
      modelUrl('huge'),
      '--method',
      'occlusion',
    ]);
    expect(result.code).toBe(4);
    expect(result.stderr).toContain("has 'width' 60000; expected a whole number from 1 to 4096.");
    expect(result.stderr).not.toMatch(/RangeError|\n\s+at /);
    expectNoSecret('stderr', result.stderr);
  });

  it('audit --out: results, CSV and report hold no credential', async () => {
    const out = join(dir, 'audit');
    const result = await run([
      'audit',
      photos,
      '--model',
      modelUrl('labels'),
      '--method',
      'occlusion',
      '--out',
      out,
    ]);
    expect(result.code, result.stderr).toBe(0);
    const files = await filesUnder(out);
    expect([...files.keys()].map((f) => f.slice(out.length + 1))).toEqual(
      expect.arrayContaining(['results.jsonl', 'report.html']),
    );
    expect([...files.values()].join('\n')).toContain('token=[redacted]');
    expectNoSecret('stdout', result.stdout);
    expectNoSecret('stderr', result.stderr);
    for (const [path, text] of files) expectNoSecret(path, text);
  });

  it('audit --out over a failing server: the error rows hold no credential', async () => {
    const out = join(dir, 'audit-failing');
    const result = await run([
      'audit',
      photos,
      '--model',
      modelUrl('refused'),
      '--method',
      'occlusion',
      '--out',
      out,
    ]);
    // Each image is an error row that quotes the server's refusal, redacted.
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('Audited 2 images (2 errors).');
    const files = await filesUnder(out);
    const rows = files.get(join(out, 'results.jsonl')) ?? '';
    expect(rows.match(/HTTP 401: \\"authorization=\[redacted\]/g)).toHaveLength(2);
    expectNoSecret('stdout', result.stdout);
    expectNoSecret('stderr', result.stderr);
    for (const [path, text] of files) expectNoSecret(path, text);
  });

  it('evaluate --out: evaluation.json and its report hold no credential', async () => {
    const out = join(dir, 'evaluate');
    const result = await run([
      'evaluate',
      photos,
      '--model',
      modelUrl('labels'),
      '--methods',
      'occlusion',
      '--metrics',
      'deletion',
      '--curve-steps',
      '4',
      '--out',
      out,
    ]);
    expect(result.code, result.stderr).toBe(0);
    const files = await filesUnder(out);
    expect(files.size).toBeGreaterThan(0);
    expectNoSecret('stdout', result.stdout);
    expectNoSecret('stderr', result.stderr);
    for (const [path, text] of files) expectNoSecret(path, text);
  });
});
