// Gradient graphs take seconds to build; keep them in the browser's IndexedDB so the next visit starts at once.
// A failure to store (private mode, quota) only costs the rebuild, never the result.
import type { OnnxModelOptions } from '../../src/browser.js';

type GraphCache = NonNullable<OnnxModelOptions['gradientCache']>;

const DB = 'sightline';
const STORE = 'gradient-graphs';
/** Chromium refuses single IndexedDB values over ~128 MB, and gradient graphs of large models exceed that. */
const CHUNK_BYTES = 64 * 1024 * 1024;

interface Head {
  meta: string;
  chunks: number;
  bytes: number;
}

export function browserGraphCache(identity: string): GraphCache {
  return {
    async load(key, make) {
      const id = `${identity}:${key}`;
      const db = await openDb().catch(() => undefined);
      const hit = db ? await read(db, id).catch(() => undefined) : undefined;
      if (hit) return hit;
      const made = await make();
      if (db) await write(db, id, made).catch(() => undefined);
      return made;
    },
  };
}

async function read(db: IDBDatabase, id: string): Promise<{ model: Uint8Array; meta: string } | undefined> {
  const head = (await request(db.transaction(STORE).objectStore(STORE).get(id))) as Head | undefined;
  if (!head) return undefined;
  const store = db.transaction(STORE).objectStore(STORE);
  const chunks = await Promise.all(
    Array.from({ length: head.chunks }, (_, i) => request(store.get(`${id}#${i}`)) as Promise<Uint8Array>),
  );
  const model = new Uint8Array(head.bytes);
  let offset = 0;
  for (const chunk of chunks) {
    if (!chunk || offset + chunk.length > head.bytes) return undefined;
    model.set(chunk, offset);
    offset += chunk.length;
  }
  return offset === head.bytes ? { model, meta: head.meta } : undefined;
}

function write(db: IDBDatabase, id: string, made: { model: Uint8Array; meta: string }): Promise<void> {
  return new Promise((resolve, reject) => {
    const tx = db.transaction(STORE, 'readwrite');
    const store = tx.objectStore(STORE);
    const chunks = Math.ceil(made.model.length / CHUNK_BYTES);
    for (let i = 0; i < chunks; i++)
      store.put(made.model.slice(i * CHUNK_BYTES, (i + 1) * CHUNK_BYTES), `${id}#${i}`);
    // The head goes in the same transaction, so a reader never sees it without all its chunks.
    store.put({ meta: made.meta, chunks, bytes: made.model.length } satisfies Head, id);
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    // A quota refusal aborts the transaction; without this the promise would wait forever.
    tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
  });
}

function openDb(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open(DB, 1);
    open.onupgradeneeded = () => open.result.createObjectStore(STORE);
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
  });
}

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}
