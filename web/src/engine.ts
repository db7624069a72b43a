// The page's side of the worker: one promise per request, with status and progress on the way.
import type { AuditRow } from '../../src/browser.js';
import type { AuditPictures } from './audit-pictures.js';
import type { Reply, Request } from './protocol.js';

type Final = Exclude<Reply, { type: 'status' } | { type: 'progress' } | { type: 'audit-row' }>;
type RequestBody = Request extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

export interface CallHandlers {
  readonly onStatus?: (message: string) => void;
  readonly onProgress?: (done: number, total: number) => void;
  /** An audit's rows, each as soon as its photo is done. */
  readonly onRow?: (row: AuditRow, pictures?: AuditPictures) => void;
}

/** Raised on the page for an error the worker reported; `code` is the library's SightlineError code. */
export class EngineError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class Cancelled extends Error {}

export class Engine {
  private readonly worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  private nextId = 1;
  private readonly waiting = new Map<
    number,
    { resolve(r: Final): void; reject(e: Error): void } & CallHandlers
  >();

  constructor() {
    this.worker.onmessage = (event: MessageEvent<Reply>) => {
      const reply = event.data;
      const entry = this.waiting.get(reply.id);
      if (!entry) return;
      if (reply.type === 'status') entry.onStatus?.(reply.message);
      else if (reply.type === 'progress') entry.onProgress?.(reply.done, reply.total);
      else if (reply.type === 'audit-row') entry.onRow?.(reply.row, reply.pictures);
      else {
        this.waiting.delete(reply.id);
        if (reply.type === 'error') entry.reject(new EngineError(reply.code, reply.message));
        else if (reply.type === 'cancelled') entry.reject(new Cancelled('Cancelled.'));
        else entry.resolve(reply);
      }
    };
    this.worker.onerror = (event) => {
      const error = new EngineError('INTERNAL', `The engine stopped: ${event.message || 'unknown error'}`);
      for (const entry of this.waiting.values()) entry.reject(error);
      this.waiting.clear();
    };
  }

  /** Sends a request; returns its id (for cancel) and the final reply. */
  call<T extends Final['type']>(
    body: RequestBody,
    expect: T,
    handlers: CallHandlers = {},
    transfer: Transferable[] = [],
  ): { id: number; done: Promise<Extract<Final, { type: T }>> } {
    const id = this.nextId++;
    const done = new Promise<Final>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject, ...handlers });
      this.worker.postMessage({ ...body, id }, transfer);
    }).then((reply) => {
      if (reply.type !== expect)
        throw new EngineError('INTERNAL', `Expected '${expect}', got '${reply.type}'.`);
      return reply as Extract<Final, { type: T }>;
    });
    return { id, done };
  }

  cancel(id: number): void {
    this.worker.postMessage({ type: 'cancel', id } satisfies Request);
  }
}

/** The page's one worker, shared by every panel that asks the model something. */
export const engine = new Engine();
