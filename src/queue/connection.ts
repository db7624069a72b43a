// The Redis a queue runs on, from a redis:// or rediss:// URL. The URL may hold a password: it is kept for the
// connection only, and every text that could reach a person (messages, progress, logs) goes through `redact`.
import { Redis, type RedisOptions } from 'ioredis';
import { SightlineError } from '../core/errors.js';
import { capText } from '../core/text.js';

/** How long the first connection may take before the command gives up with a message (it never hangs). */
export const CONNECT_TIMEOUT_MS = 10_000;

export interface RedisTarget {
  /** The URL as it may be shown: the password replaced by '***'. */
  readonly shown: string;
  /** Replaces the password (raw and URL-encoded) wherever it appears in `text`. */
  redact(text: string): string;
  /** A new connection, as BullMQ needs it (no per-command retry limit: a worker waits out a Redis restart). */
  connect(): Redis;
}

/**
 * Reads a --queue URL, or `env:NAME` for the URL in that environment variable (so a password stays out of the
 * command line, which `ps` shows to every user); a malformed one is refused without quoting its password.
 */
export function redisTarget(given: string): RedisTarget {
  const variable = /^env:([A-Za-z_][A-Za-z0-9_]*)$/.exec(given)?.[1];
  const url = variable === undefined ? given : process.env[variable];
  if (url === undefined || url === '')
    throw new SightlineError(
      'INVALID_ARGUMENT',
      `--queue ${given}: the environment variable ${variable} is not set; expected it to hold redis://… or rediss://….`,
      { queue: given },
    );
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // Not quoted at all: what a URL's password is cannot be told from text that is not a URL.
    throw badUrl(undefined);
  }
  // A URL with a user but no password (redis://secret@host) sends the user part as the password.
  const secret = parsed.password || parsed.username;
  const secrets = secret
    ? [...new Set([secret, safeDecode(secret)])].sort((a, b) => b.length - a.length)
    : [];
  const redact = (text: string) => secrets.reduce((t, s) => t.replaceAll(s, '***'), text);
  const shownUrl = new URL(parsed.href);
  if (shownUrl.password) shownUrl.password = '***';
  else if (shownUrl.username) shownUrl.username = '***';
  const shown = shownUrl.href;
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') throw badUrl(shown);
  const db = parsed.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d{1,2}$/.test(db)) throw badUrl(shown);
  if (parsed.search || parsed.hash) throw badUrl(shown);
  const options: RedisOptions = {
    maxRetriesPerRequest: null,
    connectTimeout: CONNECT_TIMEOUT_MS,
    // Reconnect with backoff up to 2 s between tries: a Redis restart (AOF) is waited out, not fatal.
    retryStrategy: (times) => Math.min(100 * times, 2000),
  };
  return { shown, redact, connect: () => new Redis(url, options) };
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function badUrl(shown: string | undefined): SightlineError {
  return new SightlineError(
    'INVALID_ARGUMENT',
    `--queue ${shown === undefined ? '(not quoted: it may hold a password)' : `'${capText(shown, 200)}'`} is not a Redis URL; expected redis://[:password@]host[:port][/db] or rediss://… for TLS (db a number).`,
    { queue: shown },
  );
}

/**
 * Checks that Redis answers within CONNECT_TIMEOUT_MS (a wrong host, port or password fails here with a
 * message, rather than BullMQ retrying forever) and closes the probe connection.
 */
export async function checkReachable(target: RedisTarget): Promise<void> {
  const redis = target.connect();
  let lastError = '';
  redis.on('error', (error: Error) => {
    lastError = error.message;
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(lastError || 'no answer')), CONNECT_TIMEOUT_MS);
    });
    await Promise.race([redis.ping(), timeout]);
  } catch (error) {
    const reason = target.redact(lastError || (error as Error).message || String(error));
    throw new SightlineError(
      'IO',
      `Redis at ${target.shown} did not answer within ${CONNECT_TIMEOUT_MS / 1000} s (${capText(reason, 300)}); expected a running redis-server reachable from here with this URL's password, if it has one.`,
      { queue: target.shown },
    );
  } finally {
    clearTimeout(timer);
    redis.disconnect();
  }
}
