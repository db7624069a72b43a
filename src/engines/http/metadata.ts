import { type ErrorCode, SightlineError } from '../../core/errors.js';
import type { HttpClient } from './client.js';
import type { HttpInputFormat } from './codec.js';

/** What `GET <url>` may say about the model (docs/http-models.md); every field is optional. */
export interface HttpMetadata {
  readonly labels?: readonly string[];
  readonly width?: number;
  readonly height?: number;
  readonly input?: HttpInputFormat;
  readonly layout?: 'NCHW' | 'NHWC';
  readonly mean?: readonly number[];
  readonly std?: readonly number[];
  readonly outputs?: 'probabilities' | 'logits';
  /** Most inputs one POST may carry. */
  readonly maxBatch?: number;
}

/**
 * `GET <url>` through the client (so it is retried and counted like any request). 404, 405 and 501 mean the
 * endpoint offers no metadata, and so does a 2xx answer that is not a JSON object (an HTML page, say); a JSON
 * object with a field of the wrong type is an error, since the server meant to say something.
 */
export async function fetchMetadata(
  client: HttpClient,
  signal?: AbortSignal,
): Promise<HttpMetadata | undefined> {
  const code: ErrorCode = 'MODEL_LOAD';
  return client.send('GET', {
    signal,
    code,
    accept: [404, 405, 501],
    read: ({ status, text }) => {
      if (status >= 300) return undefined;
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        return undefined;
      }
      if (!json || typeof json !== 'object' || Array.isArray(json)) return undefined;
      return checkMetadata(json as Record<string, unknown>, client.displayUrl);
    },
  });
}

function checkMetadata(m: Record<string, unknown>, url: string): HttpMetadata {
  const fail = (field: string, expected: string): never => {
    throw new SightlineError(
      'MODEL_LOAD',
      `The metadata of the model at ${url} (GET) has '${field}' ${JSON.stringify(m[field])}; expected ${expected}.`,
      { url, field },
    );
  };
  const positiveInt = (field: string) => {
    const v = m[field];
    if (v === undefined) return undefined;
    return typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : fail(field, 'a positive whole number');
  };
  const oneOf = <T extends string>(field: string, choices: readonly T[]) => {
    const v = m[field];
    if (v === undefined) return undefined;
    return choices.includes(v as T) ? (v as T) : fail(field, `one of ${choices.join(', ')}`);
  };
  const numbers = (field: string) => {
    const v = m[field];
    if (v === undefined) return undefined;
    return Array.isArray(v) && (v.length === 1 || v.length === 3) && v.every((x) => Number.isFinite(x))
      ? (v as number[])
      : fail(field, 'one or three finite numbers');
  };
  const labels = m.labels;
  if (
    labels !== undefined &&
    !(Array.isArray(labels) && labels.every((l) => typeof l === 'string' || typeof l === 'number'))
  )
    fail('labels', 'an array of class names');
  return {
    labels: (labels as unknown[] | undefined)?.map(String),
    width: positiveInt('width'),
    height: positiveInt('height'),
    input: oneOf('input', ['png', 'float32'] as const),
    layout: oneOf('layout', ['NCHW', 'NHWC'] as const),
    mean: numbers('mean'),
    std: numbers('std'),
    outputs: oneOf('outputs', ['probabilities', 'logits'] as const),
    maxBatch: positiveInt('maxBatch'),
  };
}
