/**
 * Bounds-checked access to flatbuffer tables by field index. The `flatbuffers` ByteBuffer reads past the end
 * of its bytes as zeros instead of failing, so every position is checked here before it is read: a truncated
 * or corrupt file becomes a MODEL_LOAD error instead of a model full of zeros.
 */
import type { ByteBuffer } from 'flatbuffers';
import { SightlineError } from '../../core/errors.js';

const utf8 = new TextDecoder();

function corrupt(what: string, position: number, size: number): SightlineError {
  return new SightlineError(
    'MODEL_LOAD',
    `The TFLite file is truncated or corrupt: ${what} lies at byte ${position}, outside the file of ${size} bytes.`,
    { what, position, size },
  );
}

/** One flatbuffer table; `what` names it in error messages (e.g. "subgraph 0 tensor 12"). */
export class FlatTable {
  private readonly vtable: number;
  private readonly vtableSize: number;

  constructor(
    readonly bb: ByteBuffer,
    readonly position: number,
    readonly what: string,
  ) {
    const end = bb.capacity();
    check(bb, position, 4, what);
    this.vtable = position - bb.readInt32(position);
    check(bb, this.vtable, 4, `the field table of ${what}`);
    this.vtableSize = bb.readInt16(this.vtable);
    if (this.vtableSize < 4 || this.vtable + this.vtableSize > end)
      throw corrupt(`the field table of ${what}`, this.vtable, end);
  }

  /** The absolute position of field `id`, or 0 when the field is absent (it then has its default). */
  private field(id: number, size: number): number {
    const slot = 4 + 2 * id;
    if (slot >= this.vtableSize) return 0;
    const relative = this.bb.__offset(this.position, slot);
    if (relative === 0) return 0;
    check(this.bb, this.position + relative, size, `field ${id} of ${this.what}`);
    return this.position + relative;
  }

  has(id: number): boolean {
    return this.field(id, 1) !== 0;
  }

  int8(id: number, fallback = 0): number {
    const at = this.field(id, 1);
    return at ? this.bb.readInt8(at) : fallback;
  }

  bool(id: number, fallback = false): boolean {
    const at = this.field(id, 1);
    return at ? this.bb.readUint8(at) !== 0 : fallback;
  }

  int32(id: number, fallback = 0): number {
    const at = this.field(id, 4);
    return at ? this.bb.readInt32(at) : fallback;
  }

  uint32(id: number, fallback = 0): number {
    const at = this.field(id, 4);
    return at ? this.bb.readUint32(at) : fallback;
  }

  float32(id: number, fallback = 0): number {
    const at = this.field(id, 4);
    return at ? this.bb.readFloat32(at) : fallback;
  }

  uint64(id: number, fallback = 0): number {
    const at = this.field(id, 8);
    return at ? Number(this.bb.readUint64(at)) : fallback;
  }

  string(id: number): string | undefined {
    const bytes = this.bytes(id, 'string');
    return bytes === undefined ? undefined : utf8.decode(bytes);
  }

  table(id: number, what: string): FlatTable | undefined {
    const at = this.field(id, 4);
    return at ? new FlatTable(this.bb, this.bb.__indirect(at), what) : undefined;
  }

  /** Element positions of vector field `id` whose elements are `size` bytes, or undefined when absent. */
  private vector(id: number, size: number, what: string): { start: number; length: number } | undefined {
    const at = this.field(id, 4);
    if (!at) return undefined;
    const header = this.bb.__indirect(at);
    check(this.bb, header, 4, `the ${what} of ${this.what}`);
    const length = this.bb.__vector_len(at);
    const start = this.bb.__vector(at);
    if (length < 0) throw corrupt(`the ${what} of ${this.what}`, header, this.bb.capacity());
    check(this.bb, start, length * size, `the ${what} of ${this.what}`);
    return { start, length };
  }

  /** A byte vector as a view into the file (no copy). */
  bytes(id: number, what = 'byte vector'): Uint8Array | undefined {
    const v = this.vector(id, 1, what);
    return v && this.bb.bytes().subarray(v.start, v.start + v.length);
  }

  int32s(id: number, what = 'int vector'): number[] | undefined {
    const v = this.vector(id, 4, what);
    return v && Array.from({ length: v.length }, (_, i) => this.bb.readInt32(v.start + 4 * i));
  }

  float32s(id: number, what = 'float vector'): number[] | undefined {
    const v = this.vector(id, 4, what);
    return v && Array.from({ length: v.length }, (_, i) => this.bb.readFloat32(v.start + 4 * i));
  }

  int64s(id: number, what = 'long vector'): number[] | undefined {
    const v = this.vector(id, 8, what);
    return v && Array.from({ length: v.length }, (_, i) => Number(this.bb.readInt64(v.start + 8 * i)));
  }

  tables(id: number, what: string): FlatTable[] {
    const v = this.vector(id, 4, what);
    if (!v) return [];
    return Array.from({ length: v.length }, (_, i) => {
      const at = v.start + 4 * i;
      return new FlatTable(this.bb, this.bb.__indirect(at), `${what} ${i}`);
    });
  }
}

function check(bb: ByteBuffer, position: number, size: number, what: string): void {
  if (position < 0 || position + size > bb.capacity()) throw corrupt(what, position, bb.capacity());
}
