// The one place that calls fetch for models: timeouts, retries with backoff, a concurrency limit, a request
// budget, and header values kept out of every message. Node-only in practice (the engine's PNG encoding uses
// sharp), though nothing here needs more than fetch and AbortController.
import { abortedError, type ErrorCode, SightlineError, throwIfAborted } from '../../core/errors.js';

export interface HttpClientOptions {
  /** The endpoint; requests go to it as given. */
  readonly url: string;
  /** Sent with every request. Their values are treated as secrets: never printed, redacted from server text. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Longest wait for one answer, body included (default 30 000 ms). */
  readonly timeoutMs?: number;
  /** Further tries after a failure that another try may fix: 429, 5xx, network errors, timeouts (default 3). */
  readonly retries?: number;
  /** First backoff ceiling; try k waits a uniform random time in [0, min(maxBackoffMs, backoffMs · 2^k)]. */
  readonly backoffMs?: number;
  readonly maxBackoffMs?: number;
  /** Longest wait a server's Retry-After may ask for (default 30 000 ms). */
  readonly retryAfterCapMs?: number;
  /** Requests in flight at once, over all callers of this client (default 4). */
  readonly concurrency?: number;
  /** Requests this client may send in all, retries and the metadata GET included (default: no limit). */
  readonly budget?: number;
  /** Largest answer body read, in bytes (default 64 MiB); a larger one fails at once, since it would again. */
  readonly maxResponseBytes?: number;
  /** Uniform [0, 1) draws for the jitter; Math.random unless a test fixes it. */
  readonly random?: () => number;
}

export interface HttpReply {
  readonly status: number;
  readonly text: string;
  /** The start of the text for a message: header values redacted first, then cut, so no part of one shows. */
  excerpt(length: number): string;
}

export interface SendOptions<T> {
  readonly body?: string;
  readonly signal?: AbortSignal;
  /** The code failures carry: MODEL_LOAD while loading, MODEL_OUTPUT while predicting. */
  readonly code?: ErrorCode;
  /** Statuses besides 2xx that are answers, not failures (e.g. 404 for a missing metadata document). */
  readonly accept?: readonly number[];
  /** Turns an answer into the result; may throw TransientReplyError to ask for another try. */
  readonly read: (reply: HttpReply) => T;
}

/** A reply that another try may fix (a body that is not JSON, as a cut connection leaves). */
export class TransientReplyError extends Error {}

export const HTTP_DEFAULTS = {
  timeoutMs: 30_000,
  retries: 3,
  backoffMs: 500,
  maxBackoffMs: 8_000,
  retryAfterCapMs: 30_000,
  concurrency: 4,
  maxResponseBytes: 64 * 1024 * 1024,
} as const;

/** Network failures another try cannot fix: an unknown host, TLS and certificate problems, a bad URL. */
const PERMANENT_NETWORK = /^(ENOTFOUND|ERR_INVALID_URL|ERR_TLS|CERT_|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO_)/;

export class HttpClient {
  readonly url: string;
  /** The URL as messages show it: no user info, no query values. */
  readonly displayUrl: string;
  /** Requests sent so far (each try counts). */
  sent = 0;
  private readonly headers: Readonly<Record<string, string>>;
  private readonly secrets: string[];
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly retryAfterCapMs: number;
  private readonly concurrency: number;
  private readonly budget: number;
  private readonly maxResponseBytes: number;
  private readonly random: () => number;
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(options: HttpClientOptions) {
    this.url = options.url;
    this.displayUrl = displayUrl(options.url);
    this.headers = { ...options.headers };
    // Longest first, so a value that contains another is redacted whole. The URL's user info counts too (fetch
    // quotes the whole URL when it refuses one with credentials in it), and so do its query values.
    // Each also as a JSON string or a URL writes it (serverSays rewrites JSON bodies with JSON.stringify's
    // escapes, so '\/' or '\u0022' in what the server sent cannot hide a value).
    this.secrets = [...Object.values(this.headers), ...urlSecrets(options.url)]
      .flatMap((v) => [v, v.replace(/^Bearer\s+/i, ''), ...basicCredentials(v)])
      .flatMap((v) => [v, JSON.stringify(v).slice(1, -1), encodeURIComponent(v)])
      .filter((v) => v.length >= 4)
      .sort((a, b) => b.length - a.length);
    this.timeoutMs = options.timeoutMs ?? HTTP_DEFAULTS.timeoutMs;
    this.retries = options.retries ?? HTTP_DEFAULTS.retries;
    this.backoffMs = options.backoffMs ?? HTTP_DEFAULTS.backoffMs;
    this.maxBackoffMs = options.maxBackoffMs ?? HTTP_DEFAULTS.maxBackoffMs;
    this.retryAfterCapMs = options.retryAfterCapMs ?? HTTP_DEFAULTS.retryAfterCapMs;
    this.concurrency = options.concurrency ?? HTTP_DEFAULTS.concurrency;
    this.budget = options.budget ?? Number.POSITIVE_INFINITY;
    this.maxResponseBytes = options.maxResponseBytes ?? HTTP_DEFAULTS.maxResponseBytes;
    this.random = options.random ?? Math.random;
  }

  /** Removes every header value from text that came from elsewhere (a server's error message). */
  redact(text: string): string {
    let out = text;
    for (const s of this.secrets) out = out.split(s).join('[redacted]');
    return out;
  }

  /**
   * One logical request: tried up to retries + 1 times, each try holding one of the concurrency slots only
   * while it is on the wire, so backoff waits do not block other requests.
   */
  async send<T>(method: 'GET' | 'POST', options: SendOptions<T>): Promise<T> {
    const code = options.code ?? 'MODEL_OUTPUT';
    const started = Date.now();
    for (let attempt = 0; ; attempt++) {
      throwIfAborted(options.signal);
      await this.acquire(options.signal);
      let outcome: Outcome<T>;
      try {
        if (this.sent >= this.budget) throw this.budgetError(code);
        this.sent++;
        outcome = await this.once(method, options, code);
      } finally {
        this.release();
      }
      if (outcome.kind === 'done') return outcome.value;
      if (attempt >= this.retries) {
        const seconds = ((Date.now() - started) / 1000).toFixed(1);
        throw new SightlineError(
          code,
          `The model at ${this.displayUrl} did not answer after ${attempt + 1} ${attempt === 0 ? 'try' : 'tries'} in ${seconds} s; the last error: ${outcome.reason}.`,
          { url: this.displayUrl, attempts: attempt + 1, lastError: outcome.reason, status: outcome.status },
        );
      }
      const delay =
        outcome.retryAfterMs !== undefined
          ? Math.min(outcome.retryAfterMs, this.retryAfterCapMs)
          : this.random() * Math.min(this.maxBackoffMs, this.backoffMs * 2 ** attempt);
      await sleep(delay, options.signal);
    }
  }

  private async once<T>(
    method: 'GET' | 'POST',
    options: SendOptions<T>,
    code: ErrorCode,
  ): Promise<Outcome<T>> {
    // The try's own controller, aborted by its timeout or by the caller; timer and listener are removed as soon
    // as the try ends (AbortSignal.timeout would keep a timer and AbortSignal.any a listener per request alive).
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.timeoutMs);
    const onAbort = () => controller.abort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted) controller.abort();
    let reply: HttpReply;
    let retryAfter: string | null = null;
    let tooLarge: number | undefined;
    try {
      const response = await fetch(this.url, {
        method,
        headers: {
          accept: 'application/json',
          ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
          ...this.headers,
        },
        body: options.body,
        signal: controller.signal,
        // A redirect elsewhere would carry the headers (the API key) to a host the user did not name.
        redirect: 'manual',
      });
      retryAfter = response.headers.get('retry-after');
      // The body is read under the same timeout: a server that stalls mid-reply is a timeout too.
      const body = await readBody(response, this.maxResponseBytes);
      tooLarge = body.tooLarge;
      const text = body.text;
      reply = { status: response.status, text, excerpt: (n) => shorten(this.redact(text), n) };
    } catch (error) {
      if (options.signal?.aborted) throw abortedError();
      if (timedOut) return retry(`no answer within ${this.timeoutMs} ms`);
      const reason = this.redact(networkReason(error));
      if (PERMANENT_NETWORK.test(networkCode(error)))
        throw new SightlineError(code, `Cannot reach the model at ${this.displayUrl}: ${reason}.`, {
          url: this.displayUrl,
          lastError: reason,
        });
      return retry(reason);
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
    }
    const { status } = reply;
    if (tooLarge !== undefined)
      throw new SightlineError(
        code,
        `The model at ${this.displayUrl} answered HTTP ${status} with ${formatBytes(tooLarge)} or more, over the limit of ${formatBytes(this.maxResponseBytes)} for one answer; expected {"scores": [[…], …]} for a few images.`,
        { url: this.displayUrl, status, maxResponseBytes: this.maxResponseBytes },
      );
    const ok = (status >= 200 && status < 300) || options.accept?.includes(status);
    if (!ok && (status === 429 || status >= 500)) {
      return {
        ...retry(`HTTP ${status}${this.serverSays(reply.text)}`),
        status,
        retryAfterMs: parseRetryAfter(retryAfter),
      };
    }
    if (!ok) {
      const why =
        status >= 300 && status < 400
          ? 'it redirects elsewhere; give the final URL'
          : '4xx answers other than 429 are not retried; check the URL, --header and --api-key-env';
      throw new SightlineError(
        code,
        `The model at ${this.displayUrl} refused the request: HTTP ${status}${this.serverSays(reply.text)} (${why}).`,
        { url: this.displayUrl, status },
      );
    }
    try {
      return { kind: 'done', value: options.read(reply) };
    } catch (error) {
      if (error instanceof TransientReplyError) return retry(error.message);
      throw error;
    }
  }

  /** The server's own words from an error body: a JSON error/message/detail field, or the text, shortened. */
  private serverSays(text: string): string {
    let message = text.trim();
    try {
      const json = JSON.parse(message) as Record<string, unknown>;
      const field = json?.error ?? json?.message ?? json?.detail;
      const inner = (field as { message?: unknown } | undefined)?.message ?? field;
      // Otherwise the JSON as JSON.stringify writes it: one spelling of each string for redact to find.
      message = typeof inner === 'string' ? inner : JSON.stringify(json);
    } catch {
      // Not JSON: the text itself is the message.
    }
    message = shorten(this.redact(message), 200);
    return message ? `: ${JSON.stringify(message)}` : '';
  }

  private budgetError(code: ErrorCode): SightlineError {
    return new SightlineError(
      code,
      `The request budget of ${this.budget} requests to ${this.displayUrl} is spent (--request-budget); raise it, or ask the method for fewer model passes.`,
      { url: this.displayUrl, budget: this.budget },
    );
  }

  private acquire(signal: AbortSignal | undefined): Promise<void> {
    if (this.active < this.concurrency) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const grant = () => {
        signal?.removeEventListener('abort', onAbort);
        this.active++;
        resolve();
      };
      const onAbort = () => {
        const i = this.waiting.indexOf(grant);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(abortedError());
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(grant);
    });
  }

  private release(): void {
    this.active--;
    this.waiting.shift()?.();
  }
}

type Outcome<T> =
  | { kind: 'done'; value: T }
  | { kind: 'retry'; reason: string; status?: number; retryAfterMs?: number };

function retry(reason: string): { kind: 'retry'; reason: string } {
  return { kind: 'retry', reason };
}

/** Whitespace runs folded to one space, and at most `length` characters (then an ellipsis). */
function shorten(text: string, length: number): string {
  const flat = text.trim().replace(/\s+/g, ' ');
  return flat.length > length ? `${flat.slice(0, length)}…` : flat;
}

/**
 * Retry-After as delay-seconds (decimals accepted) or an HTTP date, in milliseconds from `now`; undefined when
 * absent or unreadable.
 */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  // Every HTTP date names its month; V8's Date.parse reads bare numbers such as '-1' or '+5' as dates in
  // 2001, which would make a garbled header an immediate retry instead of a backoff.
  if (!/[a-z]/i.test(v)) return undefined;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** The URL without user info and query values, which may hold credentials. */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    const query = [...u.searchParams.keys()].map((k) => `${k}=…`).join('&');
    return `${u.protocol}//${u.host}${u.pathname}${query ? `?${query}` : ''}`;
  } catch {
    return '(an invalid URL)';
  }
}

/**
 * The body as text, read no further than `limit` bytes: past it (or when Content-Length already says so) the
 * rest is cancelled and tooLarge holds the bytes seen, so a runaway answer cannot fill the memory.
 */
async function readBody(response: Response, limit: number): Promise<{ text: string; tooLarge?: number }> {
  const declared = Number(response.headers.get('content-length'));
  if (declared > limit) {
    await response.body?.cancel();
    return { text: '', tooLarge: declared };
  }
  if (!response.body) return { text: '' };
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel();
      return { text: '', tooLarge: total };
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    bytes.set(c, offset);
    offset += c.byteLength;
  }
  return { text: new TextDecoder().decode(bytes) };
}

function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / (1024 * 1024)).toFixed(1)} MiB` : `${bytes} bytes`;
}

/** A URL's user name, password and query values (an API key often travels as ?key=…), raw and decoded. */
function urlSecrets(url: string): string[] {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return [];
  }
  const query = u.search
    .slice(1)
    .split('&')
    .map((pair) => (pair.includes('=') ? pair.slice(pair.indexOf('=') + 1) : ''))
    .flatMap((v) => [v, v.replace(/\+/g, ' ')]);
  return [u.username, u.password, ...query].flatMap((v) => {
    try {
      return [v, decodeURIComponent(v)];
    } catch {
      return [v];
    }
  });
}

/** The user:password of a Basic Authorization value, whole and the password alone, as a server may echo them decoded. */
function basicCredentials(value: string): string[] {
  const encoded = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(value)?.[1];
  if (!encoded) return [];
  let decoded: string;
  try {
    decoded = atob(encoded);
  } catch {
    return [];
  }
  const colon = decoded.indexOf(':');
  return colon < 0 ? [decoded] : [decoded, decoded.slice(colon + 1)];
}

/** fetch wraps socket errors: TypeError('fetch failed', { cause: Error & { code } }). */
function networkCause(error: unknown): { code?: string; message?: string } {
  const cause = (error as { cause?: unknown })?.cause;
  const inner = cause instanceof AggregateError ? cause.errors[0] : cause;
  return (inner ?? error) as { code?: string; message?: string };
}

function networkCode(error: unknown): string {
  return String(networkCause(error).code ?? '');
}

function networkReason(error: unknown): string {
  const cause = networkCause(error);
  const message = cause.message || String(error);
  return cause.code && !message.includes(cause.code) ? `${message} (${cause.code})` : message;
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortedError());
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortedError());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
