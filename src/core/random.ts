/**
 * Seeded pseudo-random numbers (mulberry32): every random method takes a seed, and the same seed gives the
 * same map on every platform, since the generator is pure 32-bit integer arithmetic.
 */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
}

export function createRng(seed: number): Rng {
  let state = seed >>> 0;
  return {
    next() {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
  };
}

/**
 * A 32-bit seed from a text (FNV-1a over its UTF-16 code units): the same name gives the same seed on every
 * platform and run, and different names spread over the seeds.
 */
export function seedOf(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
