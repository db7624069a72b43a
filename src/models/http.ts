// Black-box models behind an HTTP endpoint (docs/http-models.md): flags and metadata → a spec and a client.
import { invalidArgument, SightlineError } from '../core/errors.js';
import type { Model, ModelSpec } from '../core/model.js';
import { displayUrl, HTTP_DEFAULTS, HttpClient } from '../engines/http/client.js';
import { fetchMetadata } from '../engines/http/metadata.js';
import { HttpModel } from '../engines/http/model.js';
import { readLabels } from './labels-file.js';
import { checkTask, type HttpHints, type ModelHints, triple } from './spec.js';

/**
 * The preprocessing HTTP models get unless told otherwise: squash to the input size, and normalise as
 * v = pixel − 128 (mean 128/255, std 1/255), so the baseline 0 that occlusion and RISE fill with is the
 * 8-bit grey 128 exactly, and the PNG sent holds the very pixels the tensor stands for.
 */
export const HTTP_MEAN = [128 / 255, 128 / 255, 128 / 255] as const;
export const HTTP_STD = [1 / 255, 1 / 255, 1 / 255] as const;
export const HTTP_REQUEST_BATCH = 8;

/**
 * A model behind `url`: one GET for its metadata (labels, input size, input format; optional), then POSTs of
 * images for scores. Flags win over metadata, metadata over defaults. Capabilities: predict only.
 */
export async function loadHttpModel(url: string, hints: ModelHints): Promise<Model> {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:'))
    throw invalidArgument('model', 'an http(s) URL', displayUrl(url));
  // fetch refuses such URLs, quoting them whole in its error; the credentials belong in a header.
  if (parsed.username || parsed.password)
    throw invalidArgument(
      'model',
      "a URL without 'user:password@' (send credentials with --header 'Authorization: Basic …' or --api-key-env)",
      displayUrl(url),
    );
  const http = hints.http ?? {};
  const concurrency = count('request-concurrency', http.concurrency, 1) ?? HTTP_DEFAULTS.concurrency;
  const client = new HttpClient({
    url,
    headers: requestHeaders(http),
    timeoutMs: positive('request-timeout', http.timeoutMs),
    retries: count('request-retries', http.retries, 0),
    budget: count('request-budget', http.budget, 1),
    backoffMs: positive('backoffMs', http.backoffMs, true),
    retryAfterCapMs: positive('retryAfterCapMs', http.retryAfterCapMs, true),
    concurrency,
  });
  const requestBatch = count('request-batch', http.requestBatch, 1) ?? HTTP_REQUEST_BATCH;
  const maxBatch = count('max-batch', hints.maxBatch, 1);
  const labels = hints.labels ?? (hints.labelsPath ? await readLabels(hints.labelsPath) : undefined);
  const meta = (await fetchMetadata(client)) ?? {};
  const width = hints.width ?? meta.width;
  const height = hints.height ?? meta.height;
  if (!width || !height) {
    throw new SightlineError(
      'MODEL_LOAD',
      `The model at ${client.displayUrl} does not say its input size (its GET metadata has no 'width' and 'height'); pass --input-size, e.g. 224 or 224x224.`,
      { url: client.displayUrl },
    );
  }
  const spec: ModelSpec = {
    inputName: 'image',
    layout: hints.layout ?? meta.layout ?? 'NHWC',
    width,
    height,
    channelOrder: hints.channelOrder ?? 'RGB',
    mean: triple('mean', hints.mean ?? meta.mean ?? HTTP_MEAN),
    std: triple('std', hints.std ?? meta.std ?? HTTP_STD),
    resize: hints.resize ?? 'squash',
    cropFraction: hints.cropFraction ?? 0.875,
    labels: labels ?? meta.labels ?? [],
    outputs: hints.outputs ?? meta.outputs ?? 'probabilities',
    // A black box shows no graph to read the task from: it is what the user says, else what the server's
    // metadata says, else a classifier.
    // A declared [C, h, w] output is a segmenter's, as a rank-4 ONNX output is.
    task: checkTask(hints.task) ?? meta.task ?? (meta.outputShape?.length === 3 ? 'segment' : 'classify'),
    ...(meta.outputShape ? { outputShape: meta.outputShape } : {}),
  };
  checkOutputShape(spec, client.displayUrl);
  const perRequest = Math.min(requestBatch, meta.maxBatch ?? requestBatch);
  return new HttpModel(spec, client, {
    input: http.input ?? meta.input ?? 'png',
    requestBatch: perRequest,
    maxBatch: maxBatch ?? perRequest * concurrency,
  });
}

/**
 * A segmenter's answers are C·h·w values per input, which only a declared [C, h, w] can lay out; its labels
 * name the C classes. Refused at load, before any photo is sent.
 */
function checkOutputShape(spec: ModelSpec, url: string): void {
  const shape = spec.outputShape;
  if (spec.task === 'segment' && shape?.length !== 3)
    throw new SightlineError(
      'MODEL_LOAD',
      `The model at ${url} is a segmenter, but its metadata (GET) declares no 'outputShape': [C, h, w]; a segmenter's answer is its C·h·w values per input, row-major, which only that shape lays out.`,
      { url },
    );
  if (spec.task !== 'segment' && shape?.length === 3)
    throw new SightlineError(
      'MODEL_LOAD',
      `The model at ${url} declares 'outputShape' [${shape.join(', ')}], a segmenter's [C, h, w], but its task is '${spec.task}'; declare a [K] shape, or the task 'segment'.`,
      { url },
    );
  const classes = shape?.length === 3 ? shape[0] : shape?.[0];
  if (classes !== undefined && spec.labels.length > 0 && spec.labels.length !== classes)
    throw new SightlineError(
      'MODEL_LOAD',
      `The model at ${url} has ${spec.labels.length} labels, but its 'outputShape' [${shape?.join(', ')}] has ${classes} ${spec.task === 'segment' ? 'classes' : 'scores'}; expected one label for each.`,
      { url },
    );
}

/** --header lines and the API key as one header map; values are secrets and never appear in errors. */
function requestHeaders(http: HttpHints): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of http.headers ?? []) {
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon).trim() : '';
    if (!isToken(name)) {
      // Only the part before the colon is shown: the rest may be a credential.
      throw invalidArgument('header', "'Name: value' with a header name before the colon", `${name}: …`);
    }
    headers[name] = line.slice(colon + 1).trim();
    if (!sendable(headers[name]))
      throw invalidArgument(
        'header',
        'a value of Latin-1 characters without line breaks or NUL',
        `${name}: …`,
      );
  }
  if (http.apiKeyHeader !== undefined && !http.apiKeyEnv)
    throw invalidArgument('api-key-header', 'given together with --api-key-env', http.apiKeyHeader);
  if (http.apiKeyEnv) {
    const key = process.env[http.apiKeyEnv];
    if (!key)
      throw invalidArgument(
        'api-key-env',
        'the name of a set, non-empty environment variable that holds the API key',
        http.apiKeyEnv,
      );
    if (!sendable(key))
      throw invalidArgument(
        'api-key-env',
        'a variable whose value has Latin-1 characters without line breaks or NUL',
        http.apiKeyEnv,
      );
    const name = http.apiKeyHeader ?? 'Authorization';
    if (!isToken(name)) throw invalidArgument('api-key-header', 'a header name', name);
    headers[name] = name.toLowerCase() === 'authorization' ? `Bearer ${key}` : key;
  }
  return headers;
}

/**
 * Whether fetch can send `value` in a header. It refuses the others with a TypeError that the client would
 * take for a network failure and retry, reporting a server that "did not answer" when nothing was sent.
 */
function sendable(value: string): boolean {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: line breaks and NUL are what fetch refuses.
  return !/[\r\n\0]|[^\u0000-\u00ff]/.test(value);
}

function isToken(name: string): boolean {
  return /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name);
}

function count(name: string, value: number | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < min) throw invalidArgument(name, `a whole number ≥ ${min}`, value);
  return value;
}

function positive(name: string, value: number | undefined, orZero = false): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isFinite(value) || value < 0 || (!orZero && value === 0))
    throw invalidArgument(name, orZero ? 'a number ≥ 0' : 'a positive number', value);
  return value;
}
