/**
 * The files of a zipped TF.js model, read from the zip's central directory and unpacked one at a time on
 * demand. A zip is untrusted: the sizes it declares count against a budget before anything is inflated,
 * inflating stops as soon as an entry passes its declared size (fflate's one-shot unzip would decode a lying
 * entry to its end, gigabytes of work for a few KB), every entry's CRC-32 is checked, and entry names that
 * could point outside the zip's folder are refused. No Node APIs here: the browser reads zips the same way.
 */
import { type FlateError, Inflate } from 'fflate';
import { SightlineError } from '../core/errors.js';
import type { TfjsFiles } from './tfjs-source.js';

/**
 * The most a zipped model may unpack to (the files Sightline reads from it, together), and the largest zip it
 * opens: past this, a zip bomb would fill the memory. Teachable Machine exports are a few MB.
 */
export const MAX_TFJS_ZIP_BYTES = 512 * 1024 * 1024;

/** The most entries a zip may list: a model is a few files (a large Graph model, a few hundred shards). */
export const MAX_ZIP_ENTRIES = 10_000;

/** Compressed bytes handed to the inflater at a time: one push can grow by at most ~1032× this. */
const INFLATE_CHUNK = 16 * 1024;

interface ZipEntry {
  readonly name: string;
  readonly method: number;
  readonly flags: number;
  readonly crc: number;
  readonly compressedSize: number;
  readonly originalSize: number;
  readonly localOffset: number;
}

/** Refuses a zip larger than the limit before it is read or unpacked. */
export function checkZipSize(byteLength: number, name: string, maxBytes = MAX_TFJS_ZIP_BYTES): void {
  if (byteLength <= maxBytes) return;
  throw new SightlineError(
    'MODEL_LOAD',
    `'${name}' is ${formatSize(byteLength)}, over the limit of ${formatSize(maxBytes)} for a zipped model; unzip it and give its folder.`,
    { ref: name, bytes: byteLength, maxBytes },
  );
}

/** The entries of a zip, unpacked one at a time on demand; the sizes they declare count against a budget. */
export class ZipFiles implements TfjsFiles {
  readonly names: readonly string[];
  private readonly entries = new Map<string, ZipEntry>();
  private readonly view: DataView;
  private unpacked = 0;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly zipName: string,
    private readonly maxBytes: number,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (const entry of this.centralDirectory()) {
      const why = unsafeName(entry.name);
      if (why) {
        throw new SightlineError(
          'MODEL_LOAD',
          `'${zipName}' holds an entry named ${quote(entry.name)}, which ${why}; a model export names its files relative to the zip. Sightline refuses such a zip.`,
          { ref: zipName },
        );
      }
      // Folders, and the resource forks macOS adds when it zips a folder, are not model files.
      if (entry.name.endsWith('/') || entry.name.startsWith('__MACOSX/')) continue;
      if (this.entries.has(entry.name)) {
        throw new SightlineError(
          'MODEL_LOAD',
          `'${zipName}' holds two entries named ${quote(entry.name)}; which one is meant is unclear, so the zip is refused.`,
          { ref: zipName },
        );
      }
      this.entries.set(entry.name, entry);
    }
    this.names = [...this.entries.keys()];
  }

  async read(location: string, maxBytes = Number.POSITIVE_INFINITY): Promise<Uint8Array | undefined> {
    const prefix = `${this.zipName}/`;
    const entry = location.startsWith(prefix) ? this.entries.get(location.slice(prefix.length)) : undefined;
    if (!entry) return undefined;
    this.unpacked += entry.originalSize;
    if (this.unpacked > this.maxBytes) {
      throw new SightlineError(
        'MODEL_LOAD',
        `'${this.zipName}' unpacks to more than ${formatSize(this.maxBytes)} ('${entry.name}' alone is ${formatSize(entry.originalSize)}); Sightline stops there so that a zip bomb cannot fill the memory. Unzip it and give its folder if the model really is that large.`,
        { ref: this.zipName, entry: entry.name, maxBytes: this.maxBytes },
      );
    }
    if (entry.originalSize > maxBytes) {
      // Over the caller's limit by its own account: unpacked only far enough to show it (TfjsFiles.read's
      // contract: the caller refuses what passes its limit). Short of that, the entry is not what it says.
      const start = this.unpack(entry, maxBytes);
      if (start.byteLength > maxBytes) return start;
      throw this.damaged(
        `'${entry.name}' unpacks to ${start.byteLength} bytes; the zip says ${entry.originalSize}`,
        entry,
      );
    }
    const data = this.unpack(entry);
    if (data.byteLength !== entry.originalSize) {
      throw this.damaged(
        data.byteLength > entry.originalSize
          ? `'${entry.name}' unpacks to more than the ${entry.originalSize} bytes the zip says`
          : `'${entry.name}' unpacks to ${data.byteLength} bytes; the zip says ${entry.originalSize}`,
        entry,
      );
    }
    const crc = crc32(data);
    if (crc !== entry.crc) {
      throw this.damaged(
        `'${entry.name}' has CRC-32 ${hex(crc)}; the zip says ${hex(entry.crc)}, so its bytes are not the ones that were zipped`,
        entry,
      );
    }
    return data;
  }

  beside(base: string, relative: string): string {
    const parts = base
      .slice(this.zipName.length + 1)
      .split('/')
      .slice(0, -1);
    for (const part of relative.split('/')) {
      if (part === '..') parts.pop();
      else if (part !== '' && part !== '.') parts.push(part);
    }
    return `${this.zipName}/${parts.join('/')}`;
  }

  where(): string {
    return `in '${this.zipName}' (${this.contents()})`;
  }

  /** What the zip holds, in words, for messages. */
  contents(): string {
    if (this.names.length === 0) return 'it is empty';
    const shown = this.names.slice(0, 8).join(', ');
    return `it holds ${shown}${this.names.length > 8 ? ` and ${this.names.length - 8} more` : ''}`;
  }

  /**
   * The entries the central directory lists (APPNOTE.TXT 4.3.16, with Zip64's 4.3.14–15): located from the
   * end-of-central-directory record, as every unzip tool does.
   */
  private centralDirectory(): ZipEntry[] {
    const { view, bytes } = this;
    let end = bytes.byteLength - 22;
    // The record ends the file, followed by a comment of at most 65535 bytes.
    const stop = Math.max(0, end - 65535);
    while (end >= stop && view.getUint32(end, true) !== 0x06054b50) end--;
    if (end < stop) throw this.unreadable('invalid zip data');
    let count = view.getUint16(end + 10, true);
    let offset = view.getUint32(end + 16, true);
    if ((count === 0xffff || offset === 0xffffffff) && end >= 20) {
      // The Zip64 locator sits just before the record and gives where the Zip64 record is.
      const at = view.getUint32(end - 20, true) === 0x07064b50 ? Number(this.u64(end - 12)) : -1;
      if (at >= 0 && at + 56 <= bytes.byteLength && view.getUint32(at, true) === 0x06064b50) {
        count = Number(this.u64(at + 32));
        offset = Number(this.u64(at + 48));
      }
    }
    if (count > MAX_ZIP_ENTRIES) {
      throw new SightlineError(
        'MODEL_LOAD',
        `'${this.zipName}' lists ${count} entries, over the limit of ${MAX_ZIP_ENTRIES}; a model export holds a few files.`,
        { ref: this.zipName, entries: count, maxEntries: MAX_ZIP_ENTRIES },
      );
    }
    const entries: ZipEntry[] = [];
    let p = offset;
    for (let i = 0; i < count; i++) {
      if (p + 46 > bytes.byteLength || view.getUint32(p, true) !== 0x02014b50)
        throw this.unreadable('invalid zip data');
      const flags = view.getUint16(p + 8, true);
      const nameLength = view.getUint16(p + 28, true);
      const extraLength = view.getUint16(p + 30, true);
      const commentLength = view.getUint16(p + 32, true);
      const next = p + 46 + nameLength + extraLength + commentLength;
      if (next > bytes.byteLength) throw this.unreadable('invalid zip data');
      const nameBytes = bytes.subarray(p + 46, p + 46 + nameLength);
      // Bit 11: the name is UTF-8; otherwise CP437, which agrees with Latin-1 on the ASCII names exports use.
      const name = new TextDecoder(flags & 0x800 ? 'utf-8' : 'latin1').decode(nameBytes);
      const sizes = {
        compressedSize: view.getUint32(p + 20, true),
        originalSize: view.getUint32(p + 24, true),
        localOffset: view.getUint32(p + 42, true),
      };
      this.zip64Sizes(sizes, p + 46 + nameLength, extraLength);
      entries.push({
        name,
        method: view.getUint16(p + 10, true),
        flags,
        crc: view.getUint32(p + 16, true),
        ...sizes,
      });
      p = next;
    }
    return entries;
  }

  /** Sizes written as 0xFFFFFFFF are in the Zip64 extra field (id 1), in this order. */
  private zip64Sizes(
    sizes: { originalSize: number; compressedSize: number; localOffset: number },
    extra: number,
    length: number,
  ): void {
    for (let q = extra; q + 4 <= extra + length; ) {
      const id = this.view.getUint16(q, true);
      const size = this.view.getUint16(q + 2, true);
      if (id === 1) {
        let r = q + 4;
        for (const key of ['originalSize', 'compressedSize', 'localOffset'] as const) {
          if (sizes[key] !== 0xffffffff) continue;
          // Within the field as declared and within the extra data holding it, which may be shorter.
          if (r + 8 > Math.min(q + 4 + size, extra + length)) throw this.unreadable('invalid zip64 data');
          sizes[key] = Number(this.u64(r));
          r += 8;
        }
        return;
      }
      q += 4 + size;
    }
  }

  /** An entry's bytes, inflated no further than one byte past `limit` (its declared size unless told). */
  private unpack(entry: ZipEntry, limit = entry.originalSize): Uint8Array {
    const { view, bytes } = this;
    if (entry.flags & 1) throw this.unreadable(`'${entry.name}' is encrypted`);
    const at = entry.localOffset;
    if (at + 30 > bytes.byteLength || view.getUint32(at, true) !== 0x04034b50)
      throw this.unreadable('invalid zip data');
    const start = at + 30 + view.getUint16(at + 26, true) + view.getUint16(at + 28, true);
    if (start + entry.compressedSize > bytes.byteLength) throw this.unreadable('unexpected EOF');
    const compressed = bytes.subarray(start, start + entry.compressedSize);
    if (entry.method === 0) return compressed.slice(0, limit + 1);
    if (entry.method !== 8)
      throw this.unreadable(
        `'${entry.name}' uses compression method ${entry.method}; expected deflate (8) or none (0)`,
      );
    const chunks: Uint8Array[] = [];
    let total = 0;
    const inflater = new Inflate((chunk) => {
      if (total <= limit) chunks.push(chunk);
      total += chunk.byteLength;
    });
    try {
      for (let p = 0; p < compressed.byteLength && total <= limit; p += INFLATE_CHUNK) {
        const end = Math.min(compressed.byteLength, p + INFLATE_CHUNK);
        inflater.push(compressed.subarray(p, end), end === compressed.byteLength);
      }
      if (compressed.byteLength === 0) inflater.push(compressed, true);
    } catch (cause) {
      if ((cause as FlateError).code === undefined) throw cause;
      throw this.unreadable((cause as Error).message, cause);
    }
    const out = new Uint8Array(Math.min(total, limit + 1));
    let offset = 0;
    for (const chunk of chunks) {
      const part = chunk.subarray(0, out.byteLength - offset);
      out.set(part, offset);
      offset += part.byteLength;
    }
    return out;
  }

  private u64(at: number): bigint {
    if (at < 0 || at + 8 > this.bytes.byteLength) return -1n;
    return this.view.getBigUint64(at, true);
  }

  private unreadable(why: string, cause?: unknown): SightlineError {
    return new SightlineError(
      'MODEL_LOAD',
      `'${this.zipName}' is not a readable zip file: ${why}.`,
      { ref: this.zipName },
      cause === undefined ? undefined : { cause },
    );
  }

  private damaged(why: string, entry: ZipEntry): SightlineError {
    return new SightlineError('MODEL_LOAD', `'${this.zipName}' is damaged: ${why}.`, {
      ref: this.zipName,
      entry: entry.name,
    });
  }
}

/** Why an entry name could reach outside the folder it is unpacked to, or undefined when it cannot. */
function unsafeName(name: string): string | undefined {
  if (name.includes('\\') || name.includes('\0')) return 'holds a backslash or NUL';
  if (name.startsWith('/') || /^[a-z]:/i.test(name)) return 'is an absolute path';
  if (name.split('/').includes('..')) return "climbs out of the zip's folder with '..'";
  return undefined;
}

let crcTable: Uint32Array | undefined;

/** CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), as zip stores it; the table is built once. */
export function crc32(data: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = crcTable[(crc ^ data[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}

/** A name from the zip, quoted for a message and cut short. */
function quote(text: string): string {
  return JSON.stringify(text.length > 120 ? `${text.slice(0, 120)}…` : text);
}

export function formatSize(bytes: number): string {
  const mb = bytes / (1024 * 1024);
  return mb >= 1 ? `${Math.round(mb)} MB` : `${bytes} bytes`;
}
