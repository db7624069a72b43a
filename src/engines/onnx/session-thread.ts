// ONNX Runtime sessions on a worker thread (Node only; session-worker.ts is the thread). onnxruntime-node runs
// a model synchronously on the calling thread, so while the main thread ran it nothing else of an audit moved:
// with the sessions here, the next image is decoded and preprocessed, and the last one rendered and encoded,
// while the model runs. One thread serves every session of the process, one run at a time: the runs share the
// cores through ORT's own intra-op threads, and a second runner would only compete with them.
import { Worker } from 'node:worker_threads';
import * as ort from '#ort';
import type { OrtSession, SessionOpener } from './open-session.js';

/** A tensor as it crosses between threads (structured clone copies the data). */
export interface WireTensor {
  readonly type: string;
  readonly dims: readonly number[];
  readonly data: ort.Tensor['data'];
}

type SessionCall =
  | {
      readonly op: 'create';
      readonly bytes: Uint8Array;
      readonly options: ort.InferenceSession.SessionOptions;
    }
  | {
      readonly op: 'run';
      readonly handle: number;
      readonly feeds: Record<string, WireTensor>;
      readonly fetches: readonly string[];
    }
  | { readonly op: 'release'; readonly handle: number };

export type SessionRequest = SessionCall & { readonly id: number };

export type SessionReply =
  | { readonly id: number; readonly ok: unknown }
  | { readonly id: number; readonly error: string };

interface Created {
  readonly handle: number;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata: readonly ort.InferenceSession.ValueMetadata[];
  readonly outputMetadata: readonly ort.InferenceSession.ValueMetadata[];
}

type Pending = { resolve(value: unknown): void; reject(error: Error): void };

/** The process's one session thread, started on the first session and kept while any request is pending. */
class SessionThread {
  private worker?: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  request(message: SessionCall, transfer: ArrayBuffer[] = []): Promise<unknown> {
    const worker = this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // Held only while it owes an answer: idle sessions must not keep a finished process alive.
      if (this.pending.size === 1) worker.ref();
      worker.postMessage({ ...message, id } as SessionRequest, transfer);
    });
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = import.meta.url.endsWith('.ts')
      ? // Run from source (the tests), the thread registers tsx before it loads its TypeScript: a worker
        // ignores --import hooks for its own entry in Node 20.
        new Worker(
          `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(new URL('./session-worker.ts', import.meta.url).href)}); })`,
          { eval: true },
        )
      : new Worker(new URL('./session-worker.js', import.meta.url));
    worker.unref();
    worker.on('message', (reply: SessionReply) => this.settle(reply));
    const fail = (error: Error) => {
      if (this.worker === worker) this.worker = undefined;
      for (const p of this.pending.values()) p.reject(error);
      this.pending.clear();
    };
    worker.on('error', (error) => fail(new Error(`ONNX Runtime's thread failed: ${error.message}`)));
    worker.on('exit', (code) => fail(new Error(`ONNX Runtime's thread stopped (exit code ${code}).`)));
    this.worker = worker;
    return worker;
  }

  private settle(reply: SessionReply): void {
    const p = this.pending.get(reply.id);
    if (!p) return;
    this.pending.delete(reply.id);
    if (this.pending.size === 0) this.worker?.unref();
    if ('error' in reply) p.reject(new Error(reply.error));
    else p.resolve(reply.ok);
  }
}

const thread = new SessionThread();

/** Opens sessions on the session thread; each run copies its feeds there and its outputs back (small next to a pass). */
export const openOnSessionThread: SessionOpener = async (bytes, options) => {
  const model = tight(bytes);
  const created = (await thread.request(
    { op: 'create', bytes: model.data, options: withoutSpinning(options) },
    model.transfer,
  )) as Created;
  const { handle } = created;
  const session: OrtSession = {
    inputNames: created.inputNames,
    outputNames: created.outputNames,
    inputMetadata: created.inputMetadata,
    outputMetadata: created.outputMetadata,
    async run(feeds, fetches) {
      const wire: Record<string, WireTensor> = {};
      const transfer: ArrayBuffer[] = [];
      for (const [name, t] of Object.entries(feeds)) {
        const tensor = t as ort.Tensor;
        const data = tight(tensor.data);
        wire[name] = { type: tensor.type, dims: tensor.dims, data: data.data };
        transfer.push(...data.transfer);
      }
      const out = (await thread.request({ op: 'run', handle, feeds: wire, fetches }, transfer)) as Record<
        string,
        WireTensor
      >;
      const result: Record<string, ort.Tensor> = {};
      for (const [name, t] of Object.entries(out))
        result[name] = new ort.Tensor(t.type as 'float32', t.data as Float32Array, t.dims);
      return result;
    },
    async release() {
      await thread.request({ op: 'release', handle });
    },
  };
  return session;
};

/**
 * ORT's pool threads spin between operators by default, holding a core that the audit's decoding, rendering and
 * PNG encoding need: on this 2-core machine, shared, the default model's prediction + Grad-CAM pass cost 0.58 CPU
 * s a image spinning and 0.30 s not (1.7 s and 0.56 s of wall time), the same work done. Spinning within runs
 * only (session.force_spinning_stop, as open-session.ts's sessions in the calling thread do) was measured too:
 * the model alone ran 5% faster, but the default model's audit made 14.7–15.0 images/s against 16.3–16.7 with
 * spinning off (scripts/bench-audit.mjs, alternated).
 */
function withoutSpinning(options: ort.InferenceSession.SessionOptions): ort.InferenceSession.SessionOptions {
  const extra = (options.extra ?? {}) as { session?: { intra_op?: Record<string, string> } };
  return {
    ...options,
    extra: {
      ...extra,
      session: { ...extra.session, intra_op: { allow_spinning: '0', ...extra.session?.intra_op } },
    },
  };
}

/**
 * Posting a typed array copies its whole buffer: a batch that is a slice of a larger one (runBatched's) would
 * carry all of it on every run. A part of a buffer is copied out and its copy moved, not copied again.
 */
function tight<T extends ort.Tensor['data'] | Uint8Array>(data: T): { data: T; transfer: ArrayBuffer[] } {
  if (!ArrayBuffer.isView(data) || !(data.buffer instanceof ArrayBuffer)) return { data, transfer: [] };
  if (data.byteOffset === 0 && data.byteLength === data.buffer.byteLength) return { data, transfer: [] };
  const copy = (data as Uint8Array).slice() as T;
  return { data: copy, transfer: [(copy as Uint8Array).buffer as ArrayBuffer] };
}
