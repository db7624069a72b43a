// Saved audit progress: each finished row goes into IndexedDB as it comes, under a fingerprint of what the
// audit is (the model and how it is read, the method and its options, the regions files, and each photo's
// name, size and modification time), so an audit of the same folder with the same settings after a reload,
// a crash or a closed tab redoes only the photos not done. The store is this page's own but still untrusted
// (another tab, an extension or a hand edit may have written it): every saved row passes the same check as a
// journal's rows in the CLI (checkRow) or is ignored and redone.

import { type AuditRow, checkRow, pictureType } from '../../src/browser.js';
import type { AuditPictures } from './audit-pictures.js';
import type { AuditPhoto, AuditRegionsFile } from './audit-protocol.js';

const DATABASE = 'sightline-audit';
const ROWS = 'rows';

export interface AuditIdentity {
  /** ModelInfo.identity: the model's digest and hints. */
  readonly model: string;
  readonly method: string;
  readonly options: Readonly<Record<string, number | string>>;
  readonly regions: readonly AuditRegionsFile[];
  readonly photos: readonly AuditPhoto[];
}

/** The fingerprint of an audit: SHA-256 of its identity, in hex. */
export async function auditFingerprint(identity: AuditIdentity): Promise<string> {
  const text = JSON.stringify({
    model: identity.model,
    method: identity.method,
    options: Object.entries(identity.options).sort(([a], [b]) => (a < b ? -1 : 1)),
    regions: identity.regions.map((r) => [r.name, r.text]),
    photos: identity.photos
      .map((p) => [p.file, p.blob.size, p.blob instanceof File ? p.blob.lastModified : 0] as const)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  });
  const hash = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
  return Array.from(hash, (b) => b.toString(16).padStart(2, '0')).join('');
}

let opened: Promise<IDBDatabase> | undefined;

function database(): Promise<IDBDatabase> {
  opened ??= new Promise<IDBDatabase>((resolve, reject) => {
    const request = indexedDB.open(DATABASE, 1);
    // Keys are [fingerprint, file]: one audit's rows are a key range.
    request.onupgradeneeded = () => request.result.createObjectStore(ROWS);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
    request.onblocked = () => reject(new Error('The saved audit progress is held open by another tab.'));
  });
  opened.catch(() => {
    opened = undefined;
  });
  return opened;
}

/** All [fingerprint, file] keys of one audit: arrays sort after every string, so [fp, []] ends the range. */
const audit = (fingerprint: string) => IDBKeyRange.bound([fingerprint], [fingerprint, []]);

function done(transaction: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    transaction.oncomplete = () => resolve();
    transaction.onerror = () => reject(transaction.error);
    transaction.onabort = () => reject(transaction.error ?? new Error('The saved progress was not written.'));
  });
}

/** What is saved of one photo: its row, and its pictures for report.html when they were drawn. */
interface Saved {
  readonly row: AuditRow;
  readonly pictures?: AuditPictures;
}

/** The largest picture accepted back (bytes), as the CLI reads pictures (src/audit/pictures.ts). */
const MAX_PICTURE_BYTES = 16 * 1024 * 1024;

/**
 * The rows saved for this audit whose file is one of `files`, each rebuilt by checkRow, with their pictures
 * where both are PNG, JPEG or WebP bytes of a sane size; `ignored` counts the records that were not a valid row
 * of the file their key names.
 */
export async function savedRows(
  fingerprint: string,
  files: ReadonlySet<string>,
): Promise<{ rows: AuditRow[]; pictures: Map<string, AuditPictures>; ignored: number }> {
  const db = await database();
  const transaction = db.transaction(ROWS, 'readonly');
  const store = transaction.objectStore(ROWS);
  const [keys, values] = await Promise.all([
    request(store.getAllKeys(audit(fingerprint))),
    request(store.getAll(audit(fingerprint))),
  ]);
  const rows: AuditRow[] = [];
  const pictures = new Map<string, AuditPictures>();
  let ignored = 0;
  values.forEach((value, i) => {
    const key = keys[i];
    const record = (value ?? {}) as Partial<Record<keyof Saved, unknown>>;
    const checked = checkRow(record.row);
    const file = Array.isArray(key) ? key[1] : undefined;
    if (!('row' in checked && checked.row.file === file && files.has(file))) {
      ignored++;
      return;
    }
    rows.push(checked.row);
    const { overlay, thumbnail } = (record.pictures ?? {}) as Partial<Record<keyof AuditPictures, unknown>>;
    if (isPicture(overlay) && isPicture(thumbnail)) pictures.set(file, { overlay, thumbnail });
  });
  return { rows, pictures, ignored };
}

function isPicture(v: unknown): v is Uint8Array {
  return v instanceof Uint8Array && v.length <= MAX_PICTURE_BYTES && pictureType(v) !== undefined;
}

/** Saves one finished row (and its pictures); resolves once it is on disk (the transaction completed). */
export async function saveRow(fingerprint: string, row: AuditRow, pictures?: AuditPictures): Promise<void> {
  const db = await database();
  const transaction = db.transaction(ROWS, 'readwrite');
  const saved: Saved = pictures ? { row, pictures } : { row };
  transaction.objectStore(ROWS).put(saved, [fingerprint, row.file]);
  await done(transaction);
}

/** How many rows are saved, over every audit. */
export async function savedCount(): Promise<number> {
  const db = await database();
  return request(db.transaction(ROWS, 'readonly').objectStore(ROWS).count());
}

/** Forgets every saved row. */
export async function discardSaved(): Promise<void> {
  const db = await database();
  const transaction = db.transaction(ROWS, 'readwrite');
  transaction.objectStore(ROWS).clear();
  await done(transaction);
}

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}
