// A black-box model over HTTP on 127.0.0.1 that follows docs/http-models.md, with an analytic answer and
// faults on request, for the HTTP engine's tests.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type Socket } from 'node:net';
import sharp from 'sharp';

export interface Patch {
  readonly x0: number;
  readonly y0: number;
  readonly x1: number;
  readonly y1: number;
}

/**
 * The analytic model: with c = pixel − 128 (the HTTP models' default normalised value), the score of class 0
 * is s = sigmoid(mean of c over the patch and the three channels / 32), class 1 gets 1 − s. `at(x, y, ch)`
 * reads c. The sum runs y, x, channel, in that order, wherever it is computed, so two copies agree bit for bit.
 */
export function patchScores(
  at: (x: number, y: number, ch: number) => number,
  patch: Patch,
): [number, number] {
  let sum = 0;
  for (let y = patch.y0; y < patch.y1; y++)
    for (let x = patch.x0; x < patch.x1; x++) for (let ch = 0; ch < 3; ch++) sum += at(x, y, ch);
  const mean = sum / (3 * (patch.x1 - patch.x0) * (patch.y1 - patch.y0));
  const s = 1 / (1 + Math.exp(-mean / 32));
  return [s, 1 - s];
}

/** What the server may do instead of answering well. */
export type Fault =
  /** Answers correctly after `ms`. */
  | { readonly kind: 'slow'; readonly ms: number }
  /** Answers this status with a body (and a Retry-After header when given). */
  | { readonly kind: 'status'; readonly status: number; readonly body?: string; readonly retryAfter?: string }
  /** 200 with the first half of the JSON. */
  | { readonly kind: 'malformed' }
  /** Sends the headers and half the body, then destroys the socket. */
  | { readonly kind: 'drop' }
  /** Sends the headers and half the body, then nothing more (the socket stays open). */
  | { readonly kind: 'stall' }
  /** One score vector too many. */
  | { readonly kind: 'wrong-count' }
  /** The last vector one score short. */
  | { readonly kind: 'ragged' }
  /** A score of 1e999, which JSON.parse reads as Infinity. */
  | { readonly kind: 'non-finite' }
  /** Reads the request and never answers. */
  | { readonly kind: 'hang' };

export interface RequestRecord {
  /** 0, 1, 2, … in arrival order, over all methods. */
  readonly n: number;
  readonly method: string;
  readonly headers: IncomingMessage['headers'];
  /** Milliseconds (performance.now()) when the request arrived. */
  readonly at: number;
  readonly inputs: number;
  /** Whether this exact body arrived for the first time (a retry repeats its body). */
  readonly firstTry: boolean;
  readonly fault?: Fault;
}

export interface ModelServerOptions {
  readonly patch?: Patch;
  /** The JSON `GET <url>` answers; null answers 404. Default: labels ['bright', 'dark']. */
  readonly metadata?: Record<string, unknown> | null;
  /** Picks a fault for a POST (or none). */
  readonly fault?: (request: Omit<RequestRecord, 'fault'>) => Fault | undefined;
}

export interface ModelServer {
  /** The predict URL, http://127.0.0.1:<port>/predict. */
  readonly url: string;
  readonly requests: RequestRecord[];
  /** POSTs whose answer has not finished (or whose socket is still open), now and at most. */
  readonly inFlight: number;
  readonly maxInFlight: number;
  posts(): RequestRecord[];
  close(): Promise<void>;
}

export const DEFAULT_PATCH: Patch = { x0: 4, y0: 4, x1: 12, y1: 12 };

export async function startModelServer(options: ModelServerOptions = {}): Promise<ModelServer> {
  const patch = options.patch ?? DEFAULT_PATCH;
  const metadata = options.metadata === undefined ? { labels: ['bright', 'dark'] } : options.metadata;
  const requests: RequestRecord[] = [];
  const seen = new Set<string>();
  let inFlight = 0;
  let maxInFlight = 0;

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const at = performance.now();
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    if (req.method === 'GET') {
      requests.push({
        n: requests.length,
        method: 'GET',
        headers: req.headers,
        at,
        inputs: 0,
        firstTry: true,
      });
      if (metadata === null) return send(res, 404, '{"error": "no metadata here"}');
      return send(res, 200, JSON.stringify(metadata));
    }
    const hash = createHash('sha1').update(body).digest('hex');
    const firstTry = !seen.has(hash);
    seen.add(hash);
    let inputs: unknown[] = [];
    try {
      inputs = (JSON.parse(body) as { inputs: unknown[] }).inputs;
    } catch {
      // Left empty: the fault or the 400 below answers.
    }
    const base = {
      n: requests.length,
      method: 'POST',
      headers: req.headers,
      at,
      inputs: inputs.length,
      firstTry,
    };
    const fault = options.fault?.(base);
    requests.push({ ...base, fault });
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    res.on('close', () => inFlight--);
    if (!Array.isArray(inputs) || inputs.length === 0)
      return send(res, 400, '{"error": "expected {\\"inputs\\": [...]}"}');
    if (fault?.kind === 'hang') return;
    if (fault?.kind === 'status') {
      const headers: Record<string, string> =
        fault.retryAfter === undefined ? {} : { 'retry-after': fault.retryAfter };
      return send(res, fault.status, fault.body ?? '{"error": "injected failure"}', headers);
    }
    if (fault?.kind === 'slow') await new Promise((r) => setTimeout(r, fault.ms));
    const scores = await Promise.all(inputs.map((input) => score(input, patch)));
    if (fault?.kind === 'wrong-count') scores.push(scores[0]);
    if (fault?.kind === 'ragged') scores[scores.length - 1] = scores[scores.length - 1].slice(0, 1);
    let text = JSON.stringify({ scores });
    if (fault?.kind === 'non-finite') text = text.replace(/^\{"scores":\[\[[^,\]]+/, '{"scores":[[1e999');
    if (fault?.kind === 'malformed') text = text.slice(0, Math.floor(text.length / 2));
    if (fault?.kind === 'drop' || fault?.kind === 'stall') {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.write(text.slice(0, Math.floor(text.length / 2)));
      if (fault.kind === 'drop') setTimeout(() => req.socket.destroy(), 5);
      return;
    }
    send(res, 200, text);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => send(res, 500, JSON.stringify({ error: String(error) })));
  });
  const port = await listen(server);
  return {
    url: `http://127.0.0.1:${port}/predict`,
    requests,
    get inFlight() {
      return inFlight;
    },
    get maxInFlight() {
      return maxInFlight;
    },
    posts: () => requests.filter((r) => r.method === 'POST'),
    close: () => closeServer(server),
  };
}

/** Scores for one request item: PNG pixels or a float32 tensor ([H, W, 3] or [3, H, W]) of c = pixel − 128. */
async function score(input: unknown, patch: Patch): Promise<number[]> {
  const item = input as { png?: string; format?: string; shape?: number[]; data?: number[] };
  if (typeof item.png === 'string') {
    const { data, info } = await sharp(Buffer.from(item.png, 'base64'))
      .raw()
      .toBuffer({ resolveWithObject: true });
    const ch = info.channels;
    return patchScores((x, y, c) => data[(y * info.width + x) * ch + c] - 128, patch);
  }
  const [a, b, c] = item.shape ?? [];
  const data = item.data ?? [];
  if (c === 3) return patchScores((x, y, ch) => data[(y * b + x) * 3 + ch], patch);
  if (a === 3) return patchScores((x, y, ch) => data[ch * b * c + y * c + x], patch);
  throw new Error(`unexpected input ${JSON.stringify(Object.keys(item))}`);
}

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  if (res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(body);
}

/** A server that accepts connections and never says a word. */
export async function startSilentServer(): Promise<{
  url: string;
  requests: number;
  close(): Promise<void>;
}> {
  const sockets = new Set<Socket>();
  let requests = 0;
  // Counts requests, not TCP requests: fetch's pool may open a socket it never writes to (seen under CI
  // load), which is no try; each request line that arrives is one.
  const server = createNetServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let head = '';
    socket.on('data', (chunk: Buffer) => {
      head += chunk.toString('latin1');
      const lines = head.split('\r\n');
      head = lines.pop() ?? '';
      requests += lines.filter((line) => /^[A-Z]+ \S+ HTTP\/1\.[01]$/.test(line)).length;
    });
  });
  const port = await listen(server);
  return {
    url: `http://127.0.0.1:${port}/predict`,
    get requests() {
      return requests;
    },
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** The URL of a port that nothing listens on (one that was just free). */
export async function deadUrl(): Promise<string> {
  const server = createNetServer();
  const port = await listen(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/predict`;
}

function listen(server: Server | ReturnType<typeof createNetServer>): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
  });
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
