import { createServer } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { SightlineError } from '../../src/core/errors.js';
import type { Model } from '../../src/core/model.js';
import type { Tensor } from '../../src/core/tensor.js';
import { HttpClient } from '../../src/engines/http/client.js';
import type { HttpModel } from '../../src/engines/http/model.js';
import { occlusion } from '../../src/methods/perturbation/occlusion.js';
import { resolveOptions } from '../../src/methods/registry.js';
import { loadHttpModel } from '../../src/models/http.js';
import type { HttpHints, ModelHints } from '../../src/models/spec.js';
import {
  DEFAULT_PATCH,
  deadUrl,
  type Fault,
  type ModelServer,
  type ModelServerOptions,
  patchScores,
  startModelServer,
  startSilentServer,
} from '../helpers/http-model-server.js';

const SIZE = 16;
const TIMEOUT = 300;
const RETRIES = 2;

let servers: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

async function serve(options: ModelServerOptions = {}): Promise<ModelServer> {
  const server = await startModelServer(options);
  servers.push(server);
  return server;
}

function load(url: string, http: HttpHints = {}, hints: ModelHints = {}): Promise<Model> {
  return loadHttpModel(url, {
    width: SIZE,
    height: SIZE,
    ...hints,
    http: { timeoutMs: TIMEOUT, retries: RETRIES, backoffMs: 20, ...http },
  });
}

/** n different images, NHWC in the HTTP default units (pixel − 128), so every request body is distinct. */
function batchOf(n: number): Tensor {
  const per = SIZE * SIZE * 3;
  const data = new Float32Array(n * per);
  for (let i = 0; i < data.length; i++) data[i] = ((i * 7 + Math.floor(i / per) * 13) % 200) - 100;
  return { data, dims: [n, SIZE, SIZE, 3] };
}

/** The analytic answer for image i of a batch, computed here from the tensor. */
function expected(batch: Tensor, i: number): [number, number] {
  const off = i * SIZE * SIZE * 3;
  return patchScores((x, y, c) => batch.data[off + (y * SIZE + x) * 3 + c], DEFAULT_PATCH);
}

async function failure(run: Promise<unknown>): Promise<SightlineError> {
  const error = await run.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SightlineError);
  return error as SightlineError;
}

const RETRIED: [string, Fault, RegExp][] = [
  ['HTTP 500', { kind: 'status', status: 500 }, /HTTP 500: "injected failure"/],
  [
    'HTTP 503 with a text body',
    { kind: 'status', status: 503, body: 'upstream down' },
    /HTTP 503: "upstream down"/,
  ],
  ['HTTP 429 without Retry-After', { kind: 'status', status: 429 }, /HTTP 429/],
  ['a reply slower than the timeout', { kind: 'slow', ms: 1500 }, /no answer within 300 ms/],
  ['malformed JSON', { kind: 'malformed' }, /the answer is not JSON \(it starts "\{\\"scores\\"/],
  ['a connection dropped mid-reply', { kind: 'drop' }, /other side closed|terminated|socket/i],
  ['no answer at all', { kind: 'hang' }, /no answer within 300 ms/],
  ['headers, then a body that stalls', { kind: 'stall' }, /no answer within 300 ms/],
];

describe.each(RETRIED)('%s', (_, fault, lastError) => {
  it('on the first try only: retried, and the answer is right', async () => {
    const server = await serve({ fault: (r) => (r.firstTry ? fault : undefined) });
    const model = await load(server.url, { requestBatch: 2 });
    const batch = batchOf(2);
    const scores = await model.predict(batch);
    expect(server.posts().map((r) => r.fault?.kind)).toEqual([fault.kind, undefined]);
    for (let i = 0; i < 2; i++) {
      expect(scores.data[2 * i]).toBeCloseTo(expected(batch, i)[0], 6);
      expect(scores.data[2 * i + 1]).toBeCloseTo(expected(batch, i)[1], 6);
    }
  });

  it('on every try: a clear MODEL_OUTPUT error after retries + 1 tries', async () => {
    const server = await serve({ fault: () => fault });
    const model = await load(server.url, { requestBatch: 2 });
    const started = performance.now();
    const error = await failure(model.predict(batchOf(2)));
    const elapsed = performance.now() - started;
    expect(error.code).toBe('MODEL_OUTPUT');
    expect(error.message).toContain(`The model at ${server.url} did not answer after 3 tries`);
    expect(error.message).toMatch(lastError);
    expect(server.posts()).toHaveLength(RETRIES + 1);
    // Three tries of at most the timeout each, plus backoffs of at most 20 + 40 ms; generous slack for a busy box.
    expect(elapsed).toBeLessThan((RETRIES + 1) * TIMEOUT + 60 + 3000);
  });
});

describe('answers that break the contract fail at once, naming the URL and what was expected', () => {
  it.each([
    ['wrong-count', /3 score vectors for 2 inputs; expected one per input/],
    ['ragged', /different lengths \(scores\[0\] has 2, scores\[1\] has 1\); expected one length/],
    ['non-finite', /scores\[0\]\[0\] is Infinity; expected finite numbers/],
  ] as const)('%s', async (kind, message) => {
    const server = await serve({ fault: () => ({ kind }) });
    const model = await load(server.url, { requestBatch: 2 });
    const error = await failure(model.predict(batchOf(2)));
    expect(error.code).toBe('MODEL_OUTPUT');
    expect(error.message).toContain(`The answer of the model at ${server.url} does not fit the contract`);
    expect(error.message).toMatch(message);
    expect(server.posts()).toHaveLength(1);
  });

  it('NaN as Python writes it (a bare word) is refused at once, not retried as a cut reply', async () => {
    const body = '{"scores": [[NaN, 0.5], [0.5, 0.5]]}';
    const server = await serve({ fault: () => ({ kind: 'status', status: 200, body }) });
    const model = await load(server.url, { requestBatch: 2 });
    const error = await failure(model.predict(batchOf(2)));
    expect(error.code).toBe('MODEL_OUTPUT');
    expect(error.message).toBe(
      `The answer of the model at ${server.url} does not fit the contract: the answer holds NaN, which is not a number in JSON (Python's json.dumps writes it for a non-finite float); expected finite numbers.`,
    );
    expect(server.posts()).toHaveLength(1);
  });

  it('a 4xx other than 429 is not retried and carries the server’s message', async () => {
    const body = JSON.stringify({ error: { message: 'image too small' } });
    const server = await serve({ fault: () => ({ kind: 'status', status: 422, body }) });
    const model = await load(server.url);
    const error = await failure(model.predict(batchOf(1)));
    expect(error.message).toBe(
      `The model at ${server.url} refused the request: HTTP 422: "image too small" (4xx answers other than 429 are not retried; check the URL, --header and --api-key-env).`,
    );
    expect(server.posts()).toHaveLength(1);
  });

  it('a score count that disagrees with the labels', async () => {
    const server = await serve({ metadata: { labels: ['a', 'b', 'c'] } });
    const model = await load(server.url);
    const error = await failure(model.predict(batchOf(1)));
    expect(error.message).toMatch(/there are 2 scores per input, but the model has 3 labels/);
  });
});

describe('Retry-After', () => {
  async function gapAfter429(retryAfter: string, http: HttpHints = {}): Promise<number> {
    const server = await serve({
      fault: (r) => (r.firstTry ? { kind: 'status', status: 429, retryAfter } : undefined),
    });
    // No backoff of its own, so any wait comes from Retry-After.
    const model = await load(server.url, { backoffMs: 0, ...http });
    await model.predict(batchOf(1));
    const [first, second] = server.posts();
    expect(second.firstTry).toBe(false);
    return second.at - first.at;
  }

  it('in seconds is waited out before the retry', async () => {
    expect(await gapAfter429('0.4')).toBeGreaterThanOrEqual(395);
  });

  it('as an HTTP date is waited out too', async () => {
    // HTTP dates have whole seconds, so a date 1.5 s ahead is at least 0.5 s ahead.
    const at = new Date(Date.now() + 1500).toUTCString();
    expect(await gapAfter429(at)).toBeGreaterThanOrEqual(450);
  });

  it('is capped', async () => {
    const gap = await gapAfter429('3600', { retryAfterCapMs: 200 });
    expect(gap).toBeGreaterThanOrEqual(195);
    expect(gap).toBeLessThan(3000);
  });
});

describe('limits', () => {
  it('never has more requests in flight than the concurrency limit, over concurrent predict calls', async () => {
    const server = await serve({ fault: () => ({ kind: 'slow', ms: 60 }) });
    const model = await load(server.url, { requestBatch: 2, concurrency: 3 });
    expect(model.maxBatch).toBe(6);
    const a = batchOf(16);
    const b = batchOf(7);
    const [sa, sb] = await Promise.all([model.predict(a), model.predict(b)]);
    expect(server.maxInFlight).toBe(3);
    expect(server.posts()).toHaveLength(8 + 4);
    expect(server.posts().every((r) => r.inputs <= 2)).toBe(true);
    // Answers come back in input order although requests finish in any order.
    for (const i of [0, 5, 15]) expect(sa.data[2 * i]).toBeCloseTo(expected(a, i)[0], 6);
    expect(sb.data[2 * 6]).toBeCloseTo(expected(b, 6)[0], 6);
  });

  it('a request budget stops occlusion with its message instead of hanging', async () => {
    const server = await serve();
    const model = await load(server.url, { budget: 6, requestBatch: 2 });
    const input = batchOf(1);
    const options = resolveOptions(occlusion, { window: 4, stride: 4 });
    const error = await failure(occlusion.attribute({ model, input, target: 0, classes: 2 }, options));
    expect(error.message).toBe(
      `The request budget of 6 requests to ${server.url} is spent (--request-budget); raise it, or ask the method for fewer model passes.`,
    );
    // 17 passes in batches of 8 need 9 POSTs; the metadata GET and five POSTs were allowed, and no more (the
    // last may be cancelled on its way when a sibling request hits the budget).
    expect((model as HttpModel).requestsSent).toBe(6);
    expect(server.requests.length).toBeLessThanOrEqual(6);
    expect(server.requests.length).toBeGreaterThanOrEqual(5);
  });

  it('metadata sets the size, labels, input format and the most inputs per request', async () => {
    const server = await serve({
      metadata: { labels: ['bright', 'dark'], width: SIZE, height: SIZE, input: 'float32', maxBatch: 3 },
    });
    const model = await loadHttpModel(server.url, {});
    expect(model.spec).toMatchObject({
      width: SIZE,
      height: SIZE,
      labels: ['bright', 'dark'],
      layout: 'NHWC',
    });
    expect(model.capabilities).toEqual(new Set(['predict']));
    const batch = batchOf(7);
    const scores = await model.predict(batch);
    expect(server.posts().map((r) => r.inputs)).toEqual([3, 3, 1]);
    // float32 items carry the tensor itself, so the scores are the analytic ones to float precision.
    for (let i = 0; i < 7; i++) expect(scores.data[2 * i]).toBeCloseTo(expected(batch, i)[0], 6);
  });

  it.each([
    [{ requestBatch: 2.5 }, "Argument 'request-batch' must be a whole number ≥ 1; got 2.5."],
    [{ concurrency: 0 }, "Argument 'request-concurrency' must be a whole number ≥ 1; got 0."],
    [{ retries: -1 }, "Argument 'request-retries' must be a whole number ≥ 0; got -1."],
    [{ timeoutMs: 0 }, "Argument 'request-timeout' must be a positive number; got 0."],
  ] as [HttpHints, string][])('refuses %o before any request', async (http, message) => {
    const server = await serve();
    const error = await failure(load(server.url, http));
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.message).toBe(message);
    expect(server.requests).toHaveLength(0);
  });

  it('without metadata or --input-size the load fails and says what to pass', async () => {
    const server = await serve({ metadata: null });
    const error = await failure(loadHttpModel(server.url, {}));
    expect(error.code).toBe('MODEL_LOAD');
    expect(error.message).toMatch(/does not say its input size .*pass --input-size/);
  });

  it('metadata of the wrong type is an error naming the field', async () => {
    const server = await serve({ metadata: { width: 'big' } });
    const error = await failure(loadHttpModel(server.url, {}));
    expect(error.message).toBe(
      `The metadata of the model at ${server.url} (GET) has 'width' "big"; expected a whole number from 1 to 4096.`,
    );
  });
});

describe('answers larger than maxResponseBytes', () => {
  /** A server that answers every request 200 with `bytes` bytes of JSON, declared or streamed in 1 KB chunks. */
  async function bigAnswer(bytes: number, declared: boolean) {
    const body = `{"scores": [[${'0,'.repeat((bytes - 16) / 2)}0]]}`;
    let requests = 0;
    const server = createServer((_req, res) => {
      requests++;
      res.writeHead(200, declared ? { 'content-length': Buffer.byteLength(body) } : {});
      for (let i = 0; i < body.length; i += 1024) res.write(body.slice(i, i + 1024));
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const handle = {
      url: `http://127.0.0.1:${(server.address() as { port: number }).port}/predict`,
      requests: () => requests,
      close: () => {
        server.closeAllConnections();
        return new Promise<void>((resolve) => server.close(() => resolve()));
      },
    };
    servers.push(handle);
    return { ...handle, length: Buffer.byteLength(body) };
  }

  it.each([
    ['declared by Content-Length', true],
    ['streamed without a length', false],
  ])('%s: refused at once, without reading the rest', async (_, declared) => {
    const server = await bigAnswer(20_000, declared);
    const client = new HttpClient({ url: server.url, maxResponseBytes: 8000, retries: 2 });
    const error = await failure(client.send('POST', { body: '{}', read: ({ text }) => text.length }));
    expect(error.code).toBe('MODEL_OUTPUT');
    expect(error.message).toMatch(
      new RegExp(
        `^The model at ${server.url} answered HTTP 200 with \\d+ bytes or more, over the limit of 8000 bytes for one answer`,
      ),
    );
    expect(server.requests()).toBe(1);
    // At the limit, the answer is read whole.
    const fits = await bigAnswer(8000, declared);
    const at = new HttpClient({ url: fits.url, maxResponseBytes: fits.length });
    expect(await at.send('POST', { body: '{}', read: ({ text }) => text.length })).toBe(fits.length);
  });
});

describe('dead endpoints fail within timeout × tries plus backoff, naming the URL and the last error', () => {
  it('a port nothing listens on', async () => {
    const url = await deadUrl();
    const started = performance.now();
    const error = await failure(load(url, { backoffMs: 50 }));
    expect(error.code).toBe('MODEL_LOAD');
    expect(error.message).toMatch(
      new RegExp(
        `^The model at ${url} did not answer after 3 tries in [\\d.]+ s; the last error: .*ECONNREFUSED`,
      ),
    );
    expect(performance.now() - started).toBeLessThan(50 + 100 + 3000);
  });

  it('a server that accepts connections and never answers', async () => {
    const silent = await startSilentServer();
    servers.push(silent);
    const started = performance.now();
    const error = await failure(load(silent.url, { backoffMs: 50 }));
    const elapsed = performance.now() - started;
    expect(error.message).toMatch(
      new RegExp(`^The model at ${silent.url} did not answer after 3 tries .*no answer within 300 ms\\.$`),
    );
    expect(elapsed).toBeGreaterThanOrEqual(3 * TIMEOUT - 5);
    expect(elapsed).toBeLessThan(3 * TIMEOUT + 150 + 3000);
    expect(silent.requests).toBe(3);
  });

  it('an endpoint that dies after loading fails the predict call the same way', async () => {
    const server = await serve();
    const model = await load(server.url);
    await server.close();
    servers = [];
    const error = await failure(model.predict(batchOf(1)));
    expect(error.code).toBe('MODEL_OUTPUT');
    expect(error.message).toMatch(/did not answer after 3 tries .*ECONNREFUSED/);
  });

  it('cancelling stops at once with ABORTED, with no more requests', async () => {
    const server = await serve({ fault: () => ({ kind: 'hang' }) });
    const model = await load(server.url, { timeoutMs: 10_000 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const error = await failure(model.predict(batchOf(1), { signal: controller.signal }));
    expect(error.code).toBe('ABORTED');
    expect(server.posts()).toHaveLength(1);
  });
});

describe('headers and the API key', () => {
  const KEY = 'sk-test-5f3a9c1e-SECRET';
  afterEach(() => {
    delete process.env.SIGHTLINE_TEST_KEY;
  });

  it('sends the key as a bearer token, or raw in a header of choice, with the --header lines', async () => {
    process.env.SIGHTLINE_TEST_KEY = KEY;
    const server = await serve();
    const model = await load(server.url, { apiKeyEnv: 'SIGHTLINE_TEST_KEY', headers: ['X-Team: blue-42'] });
    await model.predict(batchOf(1));
    for (const r of server.requests) {
      expect(r.headers.authorization).toBe(`Bearer ${KEY}`);
      expect(r.headers['x-team']).toBe('blue-42');
    }
    const raw = await serve();
    await load(raw.url, { apiKeyEnv: 'SIGHTLINE_TEST_KEY', apiKeyHeader: 'X-Api-Key' });
    expect(raw.requests[0].headers['x-api-key']).toBe(KEY);
    expect(raw.requests[0].headers.authorization).toBeUndefined();
  });

  it('never shows the key or header values, even when the server echoes them', async () => {
    process.env.SIGHTLINE_TEST_KEY = KEY;
    const body = JSON.stringify({ error: `invalid key Bearer ${KEY} for team team-secret-9` });
    const server = await serve({ fault: () => ({ kind: 'status', status: 401, body }) });
    const model = await load(server.url, {
      apiKeyEnv: 'SIGHTLINE_TEST_KEY',
      headers: ['X-Team: team-secret-9'],
    });
    const error = await failure(model.predict(batchOf(1)));
    expect(error.message).toContain('HTTP 401: "invalid key [redacted] for team [redacted]"');
    const everything = `${error.message} ${JSON.stringify(error.details)} ${error.stack}`;
    expect(everything).not.toContain(KEY);
    expect(everything).not.toContain('team-secret-9');
  });

  it('redacts the key as a JSON body or a URL may escape it (\\/ for /, %2F, \\u0022 for a quote)', async () => {
    const key = 'AKIA/sk+live/"q"/9f3c';
    process.env.SIGHTLINE_TEST_KEY = key;
    // PHP's json_encode writes / as \/; the error is an object without a message, so the body is quoted whole.
    const escaped = JSON.stringify(key).slice(1, -1).replaceAll('/', '\\/');
    for (const echo of [
      escaped,
      encodeURIComponent(key),
      JSON.stringify(key).slice(1, -1).replaceAll('\\"', '\\u0022'),
    ]) {
      const body = `{"error": {"code": 401, "echo": "${echo}"}}`;
      const server = await serve({ fault: () => ({ kind: 'status', status: 401, body }) });
      const model = await load(server.url, { apiKeyEnv: 'SIGHTLINE_TEST_KEY', apiKeyHeader: 'X-Api-Key' });
      const error = await failure(model.predict(batchOf(1)));
      expect(error.message).toContain('HTTP 401: ');
      expect(error.message).toContain('[redacted]');
      for (const part of ['sk+live', 'sk%2Blive', '9f3c']) expect(error.message).not.toContain(part);
    }
  });

  it('shows no piece of the key when a quoted body is cut short', async () => {
    process.env.SIGHTLINE_TEST_KEY = KEY;
    // 200 with a body that is not JSON: the message quotes its first 60 characters, where the key begins.
    const body = `${'x'.repeat(50)} ${KEY}`;
    const server = await serve({ fault: () => ({ kind: 'status', status: 200, body }) });
    const model = await load(server.url, { apiKeyEnv: 'SIGHTLINE_TEST_KEY', retries: 0 });
    const error = await failure(model.predict(batchOf(1)));
    expect(error.message).toContain(`the answer is not JSON (it starts "${'x'.repeat(50)} [redacted…"`);
    expect(error.message).not.toContain('sk-');
  });

  it('a URL with user:password@ is refused up front, and the client never quotes the password', async () => {
    const server = await serve();
    const withCredentials = server.url.replace('http://', 'http://alice:pa%24%24-hunter2-secret@');
    const refused = await failure(loadHttpModel(withCredentials, { width: SIZE, height: SIZE }));
    expect(refused.code).toBe('INVALID_ARGUMENT');
    expect(refused.message).toContain(`"${server.url}"`);
    expect(server.requests).toHaveLength(0);
    // The client on its own: fetch refuses the URL, quoting it whole; the message must not.
    const client = new HttpClient({ url: withCredentials, retries: 0, timeoutMs: TIMEOUT });
    const error = await failure(client.send('GET', { read: () => undefined }));
    const everything = `${error.message} ${JSON.stringify(error.details)} ${error.stack}`;
    expect(everything).toContain('[redacted]');
    expect(everything).not.toContain('hunter2');
    expect(everything).not.toContain('alice');
  });

  it('a missing key variable or a malformed header is refused without echoing values', async () => {
    const url = await deadUrl();
    const missing = await failure(load(url, { apiKeyEnv: 'SIGHTLINE_TEST_KEY' }));
    expect(missing.message).toMatch(
      /'api-key-env' must be the name of a set, non-empty environment variable.*"SIGHTLINE_TEST_KEY"/,
    );
    const bad = await failure(load(url, { headers: ['Authorization Bearer hunter2-secret'] }));
    expect(bad.code).toBe('INVALID_ARGUMENT');
    expect(bad.message).not.toContain('hunter2');
  });

  it('a header value fetch cannot send is a usage error at once, not four tries that "did not answer"', async () => {
    const url = await deadUrl();
    for (const value of ['abc\nInjected: hunter2-secret', 'hunter2-€-secret', 'nul\u0000hunter2-secret']) {
      const bad = await failure(load(url, { headers: [`X-Team: ${value}`], retries: 3 }));
      expect(bad.code).toBe('INVALID_ARGUMENT');
      expect(bad.message).toBe(
        `Argument 'header' must be a value of Latin-1 characters without line breaks or NUL; got "X-Team: …".`,
      );
    }
    process.env.SIGHTLINE_TEST_KEY = 'sk-line\nbreak-hunter2';
    const key = await failure(load(url, { apiKeyEnv: 'SIGHTLINE_TEST_KEY' }));
    expect(key.message).toBe(
      `Argument 'api-key-env' must be a variable whose value has Latin-1 characters without line breaks or NUL; got "SIGHTLINE_TEST_KEY".`,
    );
  });
});
