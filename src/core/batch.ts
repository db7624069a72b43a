import { throwIfAborted } from './errors.js';
import type { Model } from './model.js';
import type { ProgressCallback } from './progress.js';
import type { Tensor } from './tensor.js';

export interface BatchJob {
  /** How many model inputs the job evaluates in all. */
  readonly total: number;
  /** Builds the inputs [start, end) as one batch. */
  build(start: number, end: number): Tensor;
  /** Receives their scores [end − start, K]. */
  consume(scores: Tensor, start: number, end: number): void;
  readonly signal?: AbortSignal;
  readonly onProgress?: ProgressCallback;
  /** Caps the batch below the model's own maxBatch (e.g. to bound memory). */
  readonly batchSize?: number;
}

/**
 * The one place that splits work into model calls: batches never exceed the model's maxBatch, progress is
 * reported after each call, and cancellation is honoured between calls.
 */
export async function runBatched(model: Model, job: BatchJob): Promise<void> {
  const size = Math.max(1, Math.min(model.maxBatch, job.batchSize ?? model.maxBatch));
  job.onProgress?.({ done: 0, total: job.total, unit: 'model passes' });
  for (let start = 0; start < job.total; start += size) {
    await yieldToEventLoop();
    throwIfAborted(job.signal);
    const end = Math.min(job.total, start + size);
    const scores = await model.predict(job.build(start, end), { signal: job.signal });
    job.consume(scores, start, end);
    job.onProgress?.({ done: end, total: job.total, unit: 'model passes' });
  }
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
