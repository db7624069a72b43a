import { invalidArgument, SightlineError } from '../core/errors.js';

/**
 * NumPy's .npy format (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html), float32 only on
 * the way out. We write exactly what `numpy.save` writes for a C-ordered float32 array — version 1.0, the same
 * spare spaces after the dict that numpy leaves for growing the first axis in place, data on a 64-byte
 * boundary — so files can be compared byte for byte.
 */
export interface NpyArray {
  readonly data: Float32Array;
  readonly shape: number[];
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const ALIGN = 64;
/** numpy pads the header so a shape's last entry can grow to this many digits without rewriting the data. */
const GROWTH_AXIS_MAX_DIGITS = 21;
/** numpy.load refuses longer headers unless told otherwise (its `max_header_size`), and so do we. */
const MAX_HEADER_BYTES = 10_000;

export function encodeNpy(data: Float32Array, shape: readonly number[]): Uint8Array {
  if (!shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw invalidArgument('shape', 'a list of non-negative integers', shape);
  }
  const size = shape.reduce((a, b) => a * b, 1);
  if (size !== data.length) {
    throw invalidArgument('shape', `dimensions whose product equals the data length ${data.length}`, shape);
  }
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let dict = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeText}, }`;
  if (shape.length > 0) dict += ' '.repeat(GROWTH_AXIS_MAX_DIGITS - String(shape[shape.length - 1]).length);
  const prefix = MAGIC.length + 2 + 2; // magic, version, uint16 header length
  const unpadded = prefix + dict.length + 1; // + the closing newline
  const headerLength = dict.length + 1 + ((ALIGN - (unpadded % ALIGN)) % ALIGN);
  const header = `${dict.padEnd(headerLength - 1, ' ')}\n`;

  const out = new Uint8Array(prefix + headerLength + data.length * 4);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  view.setUint16(8, headerLength, true);
  for (let i = 0; i < header.length; i++) out[prefix + i] = header.charCodeAt(i);
  const body = prefix + headerLength;
  for (let i = 0; i < data.length; i++) view.setFloat32(body + i * 4, data[i], true);
  return out;
}

/**
 * Reads little-endian float32 or float64 arrays (float64 is narrowed to float32), C or Fortran order, any
 * format version. `name` only labels error messages.
 */
export function decodeNpy(bytes: Uint8Array, name = 'the .npy data'): NpyArray {
  const fail = (what: string) =>
    new SightlineError('INVALID_ARGUMENT', `'${name}' is not a usable .npy array: ${what}.`, { name });
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw fail('it does not start with the NumPy magic string "\\x93NUMPY"');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6];
  if (major < 1 || major > 3)
    throw fail(`format version ${major}.${bytes[7]} is unknown; expected 1.0, 2.0 or 3.0`);
  const lengthBytes = major === 1 ? 2 : 4;
  const headerStart = 8 + lengthBytes;
  if (bytes.length < headerStart) throw fail('the file ends inside the header');
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  if (headerLength > MAX_HEADER_BYTES) {
    throw fail(`its header claims ${headerLength} bytes; numpy writes at most ${MAX_HEADER_BYTES}`);
  }
  const dataStart = headerStart + headerLength;
  if (bytes.length < dataStart) throw fail('the file ends inside the header');
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(
    bytes.subarray(headerStart, dataStart),
  );

  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw fail(`the header ${JSON.stringify(header.trim())} lacks 'descr', 'fortran_order' or 'shape'`);
  }
  const itemBytes = descr === '<f4' ? 4 : descr === '<f8' ? 8 : 0;
  if (itemBytes === 0) {
    throw fail(`it holds dtype '${descr}'; expected little-endian float32 ('<f4') or float64 ('<f8')`);
  }
  const dims = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (!dims.every((d) => /^\d+$/.test(d))) throw fail(`the shape (${shapeText}) is not integers`);
  const shape = dims.map(Number);
  const shown = `shape (${shape.join(', ')})`;
  const available = bytes.length - dataStart;
  // A lying header (truncated file, absurd or overflowing shape) is caught before anything is allocated: the
  // running product is compared with what the bytes hold at each step, so it never needs to be exact.
  let size = shape.includes(0) ? 0 : 1;
  for (const d of size === 0 ? [] : shape) {
    size *= d;
    if (size * itemBytes > available) {
      const needed = shape.reduce((a, b) => a * b, itemBytes);
      const amount = Number.isSafeInteger(needed) ? String(needed) : 'more than 2^53';
      throw fail(`${shown} needs ${amount} data bytes but only ${available} follow the header (truncated?)`);
    }
  }

  const stored = new Float32Array(size);
  const read = itemBytes === 4 ? view.getFloat32.bind(view) : view.getFloat64.bind(view);
  for (let i = 0; i < size; i++) stored[i] = read(dataStart + i * itemBytes, true);
  return { data: fortran === 'True' ? fortranToC(stored, shape) : stored, shape };
}

/** Fortran order stores the first axis fastest; walk C order and find each element's Fortran position. */
function fortranToC(stored: Float32Array, shape: readonly number[]): Float32Array {
  const out = new Float32Array(stored.length);
  const strides = new Array<number>(shape.length);
  let stride = 1;
  for (let axis = 0; axis < shape.length; axis++) {
    strides[axis] = stride;
    stride *= shape[axis];
  }
  const index = new Array<number>(shape.length).fill(0);
  for (let c = 0; c < out.length; c++) {
    let f = 0;
    for (let axis = 0; axis < shape.length; axis++) f += index[axis] * strides[axis];
    out[c] = stored[f];
    for (let axis = shape.length - 1; axis >= 0; axis--) {
      if (++index[axis] < shape[axis]) break;
      index[axis] = 0;
    }
  }
  return out;
}
