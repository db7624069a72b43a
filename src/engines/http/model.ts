import { abortedError, SightlineError, throwIfAborted } from '../../core/errors.js';
import type { Capability, Model, ModelSpec, RunOptions } from '../../core/model.js';
import type { Tensor } from '../../core/tensor.js';
import type { HttpClient } from './client.js';
import { encodeInputs, type HttpInputFormat, parseScores, ScoresError } from './codec.js';

export interface HttpModelOptions {
  readonly input: HttpInputFormat;
  /** Images per POST. */
  readonly requestBatch: number;
  /** Largest batch one predict call takes (default requestBatch × the client's concurrency). */
  readonly maxBatch: number;
}

/**
 * A black-box model behind the JSON contract of docs/http-models.md: predict only. A batch is split into
 * POSTs of `requestBatch` images, which the client sends up to its concurrency limit at a time; when one
 * fails for good the others are cancelled and that failure is thrown.
 */
export class HttpModel implements Model {
  readonly capabilities: ReadonlySet<Capability> = new Set<Capability>(['predict']);
  readonly maxBatch: number;
  /** The number of scores per input, once known (labels, or the first answer). */
  private classes: number | undefined;

  constructor(
    readonly spec: ModelSpec,
    private readonly client: HttpClient,
    private readonly options: HttpModelOptions,
  ) {
    this.maxBatch = options.maxBatch;
    // A declared output shape fixes the values per input (C·h·w for a segmenter, whose labels name C).
    this.classes = spec.outputShape
      ? spec.outputShape.reduce((a, d) => a * d, 1)
      : spec.labels.length > 0
        ? spec.labels.length
        : undefined;
  }

  /** Requests sent so far, retries included. */
  get requestsSent(): number {
    return this.client.sent;
  }

  async predict(batch: Tensor, options: RunOptions = {}): Promise<Tensor> {
    const n = batch.dims[0];
    const { width: w, height: h, layout } = this.spec;
    const expected = layout === 'NCHW' ? [n, 3, h, w] : [n, h, w, 3];
    if (batch.dims.length !== 4 || batch.dims.some((d, i) => d !== expected[i])) {
      throw new SightlineError(
        'MODEL_SHAPE',
        `The HTTP model takes batches shaped [${layout === 'NCHW' ? 'N, 3, H, W' : 'N, H, W, 3'}] = [${expected.join(', ')}]; got [${batch.dims.join(', ')}].`,
      );
    }
    throwIfAborted(options.signal);
    // Aborted by the caller, or by the first request that fails for good so its siblings stop too.
    const local = new AbortController();
    const onAbort = () => local.abort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    let failure: unknown;
    const size = this.options.requestBatch;
    const jobs: Promise<number[][]>[] = [];
    for (let start = 0; start < n; start += size) {
      const end = Math.min(n, start + size);
      jobs.push(
        this.request(batch, start, end, local.signal).catch((error: unknown) => {
          failure ??= error;
          local.abort();
          throw error;
        }),
      );
    }
    const settled = await Promise.allSettled(jobs);
    options.signal?.removeEventListener('abort', onAbort);
    if (options.signal?.aborted) throw abortedError();
    if (failure !== undefined) throw failure;
    const rows = settled.flatMap((s) => (s as PromiseFulfilledResult<number[][]>).value);
    const k = rows[0].length;
    const data = new Float32Array(n * k);
    for (let i = 0; i < n; i++) data.set(rows[i], i * k);
    return { data, dims: [n, k] };
  }

  private async request(batch: Tensor, start: number, end: number, signal: AbortSignal): Promise<number[][]> {
    const inputs = await encodeInputs(batch, start, end, this.spec, this.options.input);
    throwIfAborted(signal);
    const url = this.client.displayUrl;
    return this.client.send('POST', {
      body: JSON.stringify({ inputs }),
      signal,
      read: ({ text, excerpt }) => {
        try {
          const rows = parseScores(text, end - start, excerpt);
          this.checkClasses(rows[0].length);
          return rows;
        } catch (error) {
          if (!(error instanceof ScoresError)) throw error;
          throw new SightlineError(
            'MODEL_OUTPUT',
            `The answer of the model at ${url} does not fit the contract: ${this.client.redact(error.message)}.`,
            { url },
          );
        }
      },
    });
  }

  private checkClasses(k: number): void {
    if (this.classes === undefined) this.classes = k;
    if (k === this.classes) return;
    const known = this.spec.outputShape
      ? `its metadata declares 'outputShape' [${this.spec.outputShape.join(', ')}], ${this.classes} values`
      : this.spec.labels.length > 0
        ? `the model has ${this.spec.labels.length} labels`
        : `earlier answers had ${this.classes}`;
    throw new ScoresError(
      `there are ${k} scores per input, but ${known}; expected the same number every time`,
    );
  }

  async dispose(): Promise<void> {}
}
