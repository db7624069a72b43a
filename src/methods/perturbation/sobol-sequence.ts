import { invalidArgument } from '../../core/errors.js';
import { SOBOL_DIRECTIONS, SOBOL_MAX_DIMS } from './sobol-directions.js';

/** Bits per coordinate: 2³⁰ points at most, and every XOR stays within a 32-bit integer. */
const BITS = 30;

/** The direction numbers V_d,j (left-aligned in BITS bits) of each dimension, made once on first use. */
let directions: Int32Array[] | undefined;

function directionNumbers(): Int32Array[] {
  if (directions) return directions;
  directions = SOBOL_DIRECTIONS.split(';')
    .filter((entry) => entry.length > 0)
    .map((entry, d) => {
      const [poly, ...m] = entry.split(' ').map(Number);
      const v = new Int32Array(BITS);
      if (d === 0) {
        for (let j = 0; j < BITS; j++) v[j] = 1 << (BITS - 1 - j);
        return v;
      }
      const s = m.length;
      for (let j = 0; j < s; j++) v[j] = m[j] << (BITS - 1 - j);
      // Bratley & Fox's recurrence for x^s + a₁x^{s−1} + … + a_{s−1}x + 1 (poly holds its coefficients).
      for (let j = s; j < BITS; j++) {
        let next = v[j - s] ^ (v[j - s] >> s);
        for (let k = 1; k < s; k++) if ((poly >> (s - k)) & 1) next ^= v[j - k];
        v[j] = next;
      }
      return v;
    });
  return directions;
}

/**
 * The first `count` points of the unscrambled Sobol sequence in `dims` dimensions, point-major, in the
 * Gray-code order of Antonov & Saleev (x₀ = 0, xₙ = xₙ₋₁ ⊕ V_c, c the lowest zero bit of n − 1), with Joe and
 * Kuo's direction numbers: the same points as scipy.stats.qmc.Sobol(dims, scramble=False).random(count).
 */
export function sobolPoints(count: number, dims: number): Float64Array {
  if (!Number.isInteger(dims) || dims < 1 || dims > SOBOL_MAX_DIMS)
    throw invalidArgument('dims', `a whole number from 1 to ${SOBOL_MAX_DIMS}`, dims);
  if (!Number.isInteger(count) || count < 0 || count > 2 ** BITS)
    throw invalidArgument('count', `a whole number from 0 to 2^${BITS}`, count);
  const v = directionNumbers();
  const out = new Float64Array(count * dims);
  const x = new Int32Array(dims);
  const scale = 2 ** -BITS;
  for (let n = 1; n < count; n++) {
    let c = 0;
    for (let rest = n - 1; rest & 1; rest >>>= 1) c++;
    for (let d = 0; d < dims; d++) {
      x[d] ^= v[d][c];
      out[n * dims + d] = x[d] * scale;
    }
  }
  return out;
}
