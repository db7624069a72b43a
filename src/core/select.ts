/**
 * Exact order statistics of float32 data without sorting or copying it: a 48-megapixel map sorts in tens of
 * seconds, quickselect needs a 192 MB copy, this reads it once or twice.
 *
 * Values are compared as 32-bit integer keys that sort as the values do. SORTABLE keys any float (negative
 * values get their magnitude bits flipped; −0 and +0 share a key); ABSOLUTE, POSITIVE and NEGATIVE key the value
 * normalizeMap picks (|v|, max(v, 0), max(−v, 0)) straight from the bits, so that value need not be stored;
 * KEYS means the data already are keys.
 */
export const SORTABLE = 0;
export const ABSOLUTE = 1;
export const POSITIVE = 2;
export const NEGATIVE = 3;
const KEYS = 4;
export type KeyTransform =
  | typeof SORTABLE
  | typeof ABSOLUTE
  | typeof POSITIVE
  | typeof NEGATIVE
  | typeof KEYS;

export function keyOf(bits: number, transform: KeyTransform): number {
  switch (transform) {
    case SORTABLE:
      return bits >= 0 ? bits : bits === -0x80000000 ? 0 : bits ^ 0x7fffffff;
    case ABSOLUTE:
      return bits & 0x7fffffff;
    case POSITIVE:
      return Math.max(bits, 0);
    case NEGATIVE:
      return bits < 0 ? bits & 0x7fffffff : 0;
    default:
      return bits;
  }
}

const keyBits = new Int32Array(1);
const keyFloat = new Float32Array(keyBits.buffer);

export function valueOfKey(key: number): number {
  keyBits[0] = key >= 0 ? key : key ^ 0x7fffffff;
  return keyFloat[0];
}

/** A float32 array's bits, in place. */
export function bitsOf(values: Float32Array): Int32Array {
  return new Int32Array(values.buffer, values.byteOffset, values.length);
}

/**
 * The p-th percentile (0–100) of the keyed values, with linear interpolation between order statistics as
 * numpy.percentile's default.
 */
export function percentileOf(bits: Int32Array, transform: KeyTransform, p: number): number {
  return mapStatistics(bits, transform, p).percentile;
}

/** The keys of the k-th and (k+1)-th smallest values (the second is the first again when k is the last). */
export function selectKeys(bits: Int32Array, transform: KeyTransform, k: number): [number, number] {
  return rankPair(bits, transform, k, scan(bits, transform, bandFor(bits, transform, k)));
}

export interface MapStatistics {
  /** The p-th percentile of the keyed values. */
  readonly percentile: number;
  /** The smallest keyed value. */
  readonly min: number;
  /** How many of the raw values are NaN or ±Infinity (the other two are then meaningless). */
  readonly nonFinite: number;
}

/** The percentile, the minimum and the count of non-finite values, in one pass over a large map. */
export function mapStatistics(bits: Int32Array, transform: KeyTransform, p: number): MapStatistics {
  const position = ((bits.length - 1) * p) / 100;
  const below = Math.floor(position);
  const scanned = scan(bits, transform, bandFor(bits, transform, below));
  const [lowerKey, nextKey] = rankPair(bits, transform, below, scanned);
  const lower = valueOfKey(lowerKey);
  // below < position ≤ length − 1 when they differ, so a (below + 1)-th value exists and nextKey is it.
  const percentile = below === position ? lower : lower + (valueOfKey(nextKey) - lower) * (position - below);
  return { percentile, min: valueOfKey(scanned.minKey), nonFinite: scanned.nonFinite };
}

const SMALL = 4096;
const SAMPLES = 4096;

/** Keys lo … hi, of which at most `capacity` are gathered; everything when the data are few. */
interface Band {
  readonly lo: number;
  readonly hi: number;
  readonly capacity: number;
}

/**
 * A narrow band of keys that likely holds rank k, guessed from an evenly spread sample: a sample quantile's rank
 * is off by about √(q(1 − q)·SAMPLES) samples, and the band spans six times that, and more.
 */
function bandFor(bits: Int32Array, transform: KeyTransform, k: number): Band {
  const n = bits.length;
  if (n <= SMALL) return { lo: -0x80000000, hi: 0x7fffffff, capacity: n };
  const stride = n / SAMPLES;
  const sample = new Int32Array(SAMPLES);
  for (let i = 0; i < SAMPLES; i++) sample[i] = keyOf(bits[Math.floor((i + 0.5) * stride)], transform);
  sample.sort();
  const q = k / n;
  const at = (k * SAMPLES) / n;
  const margin = Math.ceil(6 * Math.sqrt(q * (1 - q) * SAMPLES)) + 8;
  const from = Math.floor(at) - margin;
  const to = Math.ceil(at) + margin;
  return {
    lo: from <= 0 ? -0x80000000 : sample[from],
    hi: to >= SAMPLES - 1 ? 0x7fffffff : sample[to],
    capacity: Math.min(n, Math.ceil((4 * (to - from + 1) * n) / SAMPLES) + 1024),
  };
}

interface Scan {
  /** Keys below the band, and the band's keys gathered (undefined when more than its capacity). */
  readonly below: number;
  readonly band: Int32Array | undefined;
  /** The smallest key above the band (0x7fffffff when none). */
  readonly above: number;
  readonly minKey: number;
  readonly nonFinite: number;
}

/**
 * One pass: counts the keys below the band, gathers those in it, and notes the smallest key above it, the
 * smallest key and the non-finite values.
 */
function scan(bits: Int32Array, transform: KeyTransform, { lo, hi, capacity }: Band): Scan {
  const band = new Int32Array(capacity);
  let below = 0;
  let count = 0;
  let above = 0x7fffffff;
  let minKey = 0x7fffffff;
  let nonFinite = 0;
  let overflow = false;
  const n = bits.length;
  for (let i = 0; i < n; i++) {
    const b = bits[i];
    if ((b & 0x7f800000) === 0x7f800000) nonFinite++;
    // The common transforms spelled out: calling keyOf for each value costs twice the loop.
    const key =
      transform === ABSOLUTE ? b & 0x7fffffff : transform === POSITIVE ? Math.max(b, 0) : keyOf(b, transform);
    if (key < minKey) minKey = key;
    if (key < lo) below++;
    else if (key > hi) {
      if (key < above) above = key;
    } else if (count < capacity) band[count++] = key;
    else overflow = true;
  }
  return { below, band: overflow ? undefined : band.subarray(0, count), above, minKey, nonFinite };
}

/** Ranks k and k + 1 from a scan, or by radixSelect when the band missed rank k or overflowed. */
function rankPair(bits: Int32Array, transform: KeyTransform, k: number, s: Scan): [number, number] {
  const n = bits.length;
  const { below, band } = s;
  if (!band || k < below || k >= below + band.length) return radixSelect(bits, transform, k);
  const [key, next] = band.length <= SMALL ? sortedPair(band, k - below) : radixSelect(band, KEYS, k - below);
  // When k is the band's last, the (k+1)-th is the smallest key above the band.
  return [key, k - below + 1 < band.length ? next : below + band.length < n ? s.above : key];
}

function sortedPair(keys: Int32Array, k: number): [number, number] {
  const sorted = keys.slice().sort();
  return [sorted[k], sorted[Math.min(sorted.length - 1, k + 1)]];
}

/**
 * Radix selection, 16 + 16 bits: two counting passes whatever the distribution. The first counts the keys'
 * upper halves; the second the lower halves of the keys in the bucket that holds rank k.
 */
function radixSelect(bits: Int32Array, transform: KeyTransform, k: number): [number, number] {
  const high = new Uint32Array(65536);
  for (let i = 0; i < bits.length; i++) high[(keyOf(bits[i], transform) >> 16) + 32768]++;
  let rank = k;
  let bucket = 0;
  while (rank >= high[bucket]) rank -= high[bucket++];
  const prefix = bucket - 32768;
  const low = new Uint32Array(65536);
  // The smallest key above the bucket, in case the (k+1)-th lies there.
  let above = 0x7fffffff;
  let anyAbove = false;
  for (let i = 0; i < bits.length; i++) {
    const key = keyOf(bits[i], transform);
    const head = key >> 16;
    if (head === prefix) low[key & 0xffff]++;
    else if (head > prefix && key <= above) {
      above = key;
      anyAbove = true;
    }
  }
  let tail = 0;
  while (rank >= low[tail]) rank -= low[tail++];
  const key = (prefix << 16) | tail;
  if (rank + 1 < low[tail]) return [key, key];
  for (let j = tail + 1; j < 65536; j++) if (low[j] > 0) return [key, (prefix << 16) | j];
  return [key, anyAbove ? above : key];
}
