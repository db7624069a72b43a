import { type ErrorCode, SightlineError } from '../../core/errors.js';
import { MAX_INPUT_SIDE, MODEL_TASKS, type ModelTask } from '../../core/model.js';
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
  /**
   * What the scores mean (core/model.ts ModelTask): a black box shows no graph to read it from, so the server
   * may say; --task wins over it.
   */
  readonly task?: ModelTask;
  /**
   * The scores' shape per input before flattening (core/model.ts ModelSpec.outputShape): [C, h, w] for a
   * segmenter (each answer is then its C·h·w values, row-major), [K] or [D] otherwise.
   */
  readonly outputShape?: readonly number[];
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
      return checkMetadata(json as Record<string, unknown>, client);
    },
  });
}

/**
 * The most the metadata may declare: a larger input side would make tensors of gigabytes (60000 × 60000 × 3
 * floats is 43 GB) before the first request; no image classifier takes more than a few thousand pixels a side
 * or has a hundred thousand classes.
 */
export const HTTP_METADATA_LIMITS = {
  inputSide: MAX_INPUT_SIDE,
  labels: 100_000,
  labelLength: 1000,
  maxBatch: 4096,
  /**
   * Values per input that an outputShape may declare: 2²³, what a 64 MiB answer (client.ts's cap on a body)
   * can hold at a few characters a value; a 21-class segmenter at 512 × 512 is 5.5 million.
   */
  outputValues: 8_388_608,
} as const;

/**
 * The server's values never reach a message as they came: a server that echoes the request headers would print
 * the API key. A bad field is named with what was expected and what kind of value came; the value itself shows
 * only after every header value is redacted, and cut short. Labels are redacted too, since they are printed.
 */
function checkMetadata(m: Record<string, unknown>, client: HttpClient): HttpMetadata {
  const url = client.displayUrl;
  const fail = (field: string, expected: string): never => {
    throw new SightlineError(
      'MODEL_LOAD',
      `The metadata of the model at ${url} (GET) has '${field}' ${describe(m[field], client)}; expected ${expected}.`,
      { url, field },
    );
  };
  const positiveInt = (field: string, max: number) => {
    const v = m[field];
    if (v === undefined) return undefined;
    return typeof v === 'number' && Number.isInteger(v) && v > 0 && v <= max
      ? v
      : fail(field, `a whole number from 1 to ${max}`);
  };
  const oneOf = <T extends string>(field: string, choices: readonly T[]) => {
    const v = m[field];
    if (v === undefined) return undefined;
    return choices.includes(v as T) ? (v as T) : fail(field, `one of ${choices.join(', ')}`);
  };
  const numbers = (field: string, positive: boolean) => {
    const v = m[field];
    if (v === undefined) return undefined;
    return Array.isArray(v) &&
      (v.length === 1 || v.length === 3) &&
      v.every((x) => Number.isFinite(x) && (!positive || x > 0))
      ? (v as number[])
      : fail(field, `one or three finite${positive ? ', positive' : ''} numbers`);
  };
  const { labelLength, labels: maxLabels, inputSide, maxBatch, outputValues } = HTTP_METADATA_LIMITS;
  const shape = m.outputShape;
  if (
    shape !== undefined &&
    !(
      Array.isArray(shape) &&
      (shape.length === 1 || shape.length === 3) &&
      shape.every((d) => typeof d === 'number' && Number.isInteger(d) && d > 0 && d <= outputValues) &&
      shape.reduce((a: number, d: number) => a * d, 1) <= outputValues
    )
  )
    fail(
      'outputShape',
      `[C, h, w] (a segmenter) or [K] (the scores' count): whole numbers ≥ 1 with at most ${outputValues} values in all`,
    );
  const labels = m.labels;
  if (
    labels !== undefined &&
    !(
      Array.isArray(labels) &&
      labels.length <= maxLabels &&
      labels.every(
        (l) =>
          (typeof l === 'string' && l.length <= labelLength) || (typeof l === 'number' && Number.isFinite(l)),
      )
    )
  )
    fail('labels', `an array of at most ${maxLabels} class names of at most ${labelLength} characters`);
  return {
    labels: (labels as unknown[] | undefined)?.map((l) => client.redact(String(l))),
    width: positiveInt('width', inputSide),
    height: positiveInt('height', inputSide),
    input: oneOf('input', ['png', 'float32'] as const),
    layout: oneOf('layout', ['NCHW', 'NHWC'] as const),
    mean: numbers('mean', false),
    // A std of 0 would divide every pixel by zero.
    std: numbers('std', true),
    outputs: oneOf('outputs', ['probabilities', 'logits'] as const),
    task: oneOf('task', MODEL_TASKS),
    outputShape: shape as number[] | undefined,
    maxBatch: positiveInt('maxBatch', maxBatch),
  };
}

/** A server's value for a message: its kind, and a short redacted excerpt of a string or number. */
function describe(value: unknown, client: HttpClient): string {
  if (typeof value === 'number') return client.redact(String(value)).slice(0, 24);
  if (typeof value === 'string') {
    const redacted = client.redact(value);
    const shown = redacted.length > 40 ? `${redacted.slice(0, 40)}…` : redacted;
    return JSON.stringify(shown);
  }
  if (Array.isArray(value)) return `(an array of ${value.length})`;
  return value === null ? 'null' : `(${typeof value === 'object' ? 'an object' : `a ${typeof value}`})`;
}
