import { SightlineError, throwIfAborted } from './errors.js';
import type { BackwardRules, GradientResult, Model } from './model.js';
import type { ProgressCallback } from './progress.js';
import type { Tensor } from './tensor.js';

export interface BatchJob<R> {
  /** How many model inputs the job evaluates in all. */
  readonly total: number;
  /** Builds the inputs [start, end) as one batch. */
  build(start: number, end: number): Tensor;
  /** Receives the model's answer for them. */
  consume(result: R, start: number, end: number): void;
  readonly signal?: AbortSignal;
  readonly onProgress?: ProgressCallback;
  /** Caps the batch below the model's own maxBatch (e.g. to bound memory). */
  readonly batchSize?: number;
}

/**
 * The one place that splits work into model calls: batches never exceed the model's maxBatch, progress is
 * reported after each call, and cancellation is honoured between calls.
 */
export async function forEachBatch<R>(
  model: Model,
  job: BatchJob<R>,
  call: (batch: Tensor) => Promise<R>,
  unit = 'model passes',
): Promise<void> {
  const size = Math.max(1, Math.min(model.maxBatch, job.batchSize ?? model.maxBatch));
  job.onProgress?.({ done: 0, total: job.total, unit });
  for (let start = 0; start < job.total; start += size) {
    await yieldToEventLoop();
    throwIfAborted(job.signal);
    const end = Math.min(job.total, start + size);
    job.consume(await call(job.build(start, end)), start, end);
    job.onProgress?.({ done: end, total: job.total, unit });
  }
}

/** Scores [end − start, K] for batches of inputs. */
export function runBatched(model: Model, job: BatchJob<Tensor>): Promise<void> {
  return forEachBatch(model, job, (batch) => model.predict(batch, { signal: job.signal }));
}

/**
 * Input gradients for batches of inputs; `seed(n)` gives the [n, K] output weighting for a batch of n
 * (one-hot on the target for the gradient methods); `rules` picks the backward pass (default exact).
 */
export function runGradientBatches(
  model: Model,
  job: BatchJob<GradientResult>,
  seed: (n: number) => Tensor,
  rules?: BackwardRules,
): Promise<void> {
  const inputGradients = model.inputGradients?.bind(model);
  if (!inputGradients) {
    throw new SightlineError('MISSING_CAPABILITY', 'This model offers no input gradients.', {
      capability: 'inputGradients',
    });
  }
  return forEachBatch(
    model,
    job,
    (batch) =>
      inputGradients(batch, seed(batch.dims[0]), { signal: job.signal, ...(rules ? { rules } : {}) }),
    'gradient passes',
  );
}

/**
 * onnxruntime-node runs a session synchronously on the calling thread, so without a macrotask turn between
 * calls a Ctrl-C handler, an abort from a UI or a progress redraw would wait until the whole job ended.
 */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) =>
    typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0),
  );
}
