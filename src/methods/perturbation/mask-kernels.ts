/**
 * RISE's two per-mask loops (blending the input through a mask, and adding the weighted mask to the map) in
 * WebAssembly SIMD: two float64 lanes a turn, or four float32 ones for the blend towards 0, where float32 is
 * exact (see scale). On a small detector these loops cost as much as the model's own pass when written in
 * JavaScript (a 64 × 64 × 3 blend ≈ 0.1 ms against a 0.3–0.8 ms pass on the shared development machine); here
 * the blend takes ≈ 13 µs and a sum ≈ 6 µs. The arithmetic is the JavaScript loops' exactly: float32 values
 * widened to float64, the same operations in the same order (WebAssembly never fuses a multiply-add), rounded
 * to float32 once on store, so a map is bit-identical either way; where WebAssembly SIMD is missing, or the
 * layout is interleaved (NHWC), the JavaScript loops serve. The module is assembled here from its instructions
 * (four functions, a few hundred bytes), so the project needs no WebAssembly toolchain; each run instantiates
 * it over its own memory, so concurrent runs share nothing.
 */
import type { ImageView } from '../../core/image-tensor.js';
import { applyMasks } from './masking.js';

// Instruction encodings (WebAssembly core spec 5.4, SIMD proposal opcodes under the 0xfd prefix).
const GET = 0x20;
const SET = 0x21;
const TEE = 0x22;
const I32_CONST = 0x41;
const I32_ADD = 0x6a;
const I32_SUB = 0x6b;
const I32_EQZ = 0x45;
const BLOCK = [0x02, 0x40];
const LOOP = [0x03, 0x40];
const END = 0x0b;
const BR_IF = 0x0d;
const V128 = 0x7b;
const MEM0 = [0x00, 0x00]; // alignment hint 1, offset 0
const v128Load = [0xfd, 0x00, ...MEM0];
const v128Store = [0xfd, 0x0b, ...MEM0];
const load64Zero = [0xfd, 0x5d, ...MEM0];
const store64Lane0 = [0xfd, 0x5b, ...MEM0, 0x00];
const f64x2Splat = [0xfd, 0x14];
const promoteLow = [0xfd, 0x5f];
const demoteZero = [0xfd, 0x5e];
const f64x2Add = [0xfd, 0xf0, 0x01];
const f64x2Sub = [0xfd, 0xf1, 0x01];
const f64x2Mul = [0xfd, 0xf2, 0x01];
const f32x4Mul = [0xfd, 0xe6, 0x01];

type Code = number | readonly number[];
const code = (parts: readonly Code[]): number[] => parts.flat();
const get = (i: number) => [GET, i];
/** Adds `bytes` to local `i` (a pointer). */
const advance = (i: number, bytes: number) => [GET, i, I32_CONST, bytes, I32_ADD, SET, i];
/** Two float32 values at the pointer in local `i`, widened to the two float64 lanes. */
const widen = (i: number) => [GET, i, ...load64Zero, ...promoteLow];
/** Param `i` (float64) into both lanes of local `to`. */
const splat = (i: number, to: number) => [GET, i, ...f64x2Splat, SET, to];
/** Counts local `n` down and loops while it is not zero; the loop runs only when n > 0 on entry. */
const countedLoop = (n: number, body: readonly Code[]) =>
  code([
    BLOCK,
    get(n),
    I32_EQZ,
    BR_IF,
    0,
    LOOP,
    code(body),
    get(n),
    I32_CONST,
    1,
    I32_SUB,
    TEE,
    n,
    BR_IF,
    0,
    END,
    END,
  ]);
/** A function body: its v128 locals, then its code. */
const fn = (v128Locals: number, body: readonly Code[]) =>
  code([v128Locals ? [1, v128Locals, V128] : [0], code(body), END]);

/** blend(m, x, o, pairs, b): o[i] = f32(b + m[i] · (x[i] − b)), two floats a turn; local 5 holds b twice. */
const blend = fn(1, [
  splat(4, 5),
  countedLoop(3, [
    get(2), // the store's address
    get(5),
    widen(0),
    widen(1),
    get(5),
    f64x2Sub,
    f64x2Mul,
    f64x2Add,
    demoteZero,
    store64Lane0,
    advance(0, 8),
    advance(1, 8),
    advance(2, 8),
  ]),
]);

/**
 * scale(m, x, o, quads): o[i] = m[i] · x[i], four floats a turn: the blend towards a baseline of 0 (RISE's
 * default), where float32 arithmetic is exact as float64's then rounded (a product of two float32 values is
 * exact in float64, so rounding it once to float32 is what the float32 multiply gives).
 */
const scale = fn(0, [
  countedLoop(3, [
    get(2),
    get(0),
    v128Load,
    get(1),
    v128Load,
    f32x4Mul,
    v128Store,
    advance(0, 16),
    advance(1, 16),
    advance(2, 16),
  ]),
]);

/** axpy(s, m, pairs, w): s[i] += w · m[i], s float64, m float32; local 4 holds w twice. */
const axpy = fn(1, [
  splat(3, 4),
  countedLoop(2, [
    get(0),
    get(0),
    v128Load,
    get(4),
    widen(1),
    f64x2Mul,
    f64x2Add,
    v128Store,
    advance(0, 16),
    advance(1, 8),
  ]),
]);

/** axpy2(s, c, m, pairs, w): s[i] += w · m[i] and c[i] += m[i]; local 5 holds w twice, local 6 the mask's pair. */
const axpy2 = fn(2, [
  splat(4, 5),
  countedLoop(3, [
    widen(2),
    [SET, 6],
    [get(0), get(0), v128Load, get(5), get(6), f64x2Mul, f64x2Add, v128Store].flat(),
    [get(1), get(1), v128Load, get(6), f64x2Add, v128Store].flat(),
    advance(0, 16),
    advance(1, 16),
    advance(2, 8),
  ]),
]);

const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];
const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()];
const name = (s: string) => [s.length, ...Array.from(s, (ch) => ch.charCodeAt(0))];
function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    const byte = n & 0x7f;
    n >>>= 7;
    out.push(n ? byte | 0x80 : byte);
  } while (n);
  return out;
}

function moduleBytes(): Uint8Array<ArrayBuffer> {
  const I32 = 0x7f;
  const F64 = 0x7c;
  const fiveArgs = [0x60, 5, I32, I32, I32, I32, F64, 0];
  const fourArgs = [0x60, 4, I32, I32, I32, F64, 0];
  const fourInts = [0x60, 4, I32, I32, I32, I32, 0];
  const body = (b: readonly number[]) => [...uleb(b.length), ...b];
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vec([fiveArgs, fourArgs, fourInts])),
    ...section(2, vec([[...name('e'), ...name('m'), 0x02, 0x00, 0x01]])),
    ...section(3, vec([[0], [1], [0], [2]])),
    ...section(
      7,
      vec([
        [...name('blend'), 0x00, 0],
        [...name('axpy'), 0x00, 1],
        [...name('axpy2'), 0x00, 2],
        [...name('scale'), 0x00, 3],
      ]),
    ),
    ...section(10, vec([body(blend), body(axpy), body(axpy2), body(scale)])),
  ]);
}

interface Exports {
  blend(m: number, x: number, o: number, pairs: number, b: number): void;
  axpy(s: number, m: number, pairs: number, w: number): void;
  axpy2(s: number, c: number, m: number, pairs: number, w: number): void;
  scale(m: number, x: number, o: number, quads: number): void;
}

let compiled: WebAssembly.Module | null | undefined;
function kernelModule(): WebAssembly.Module | undefined {
  if (compiled === undefined) {
    try {
      const bytes = moduleBytes();
      compiled =
        typeof WebAssembly === 'object' && WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
    } catch {
      compiled = null; // no SIMD, or a page whose policy forbids compiling: the JavaScript loops serve
    }
  }
  return compiled ?? undefined;
}

/** One RISE run's working memory: blends batches of masks into the input and sums the weighted masks. */
export interface MaskWorkspace {
  /** The input blended through mask planes [0, n) of `planes` (n × H × W): a view valid until the next call. */
  blend(planes: Float32Array, n: number): Float32Array;
  /**
   * Adds w · plane k of the last blended planes to map t (of `maps`), and the plane to the coverage when kept
   * (with map 0, so once a mask).
   */
  add(k: number, w: number, t?: number): void;
  /** Map t's Σ_i w_i · M_i(p) so far. */
  saliency(t?: number): Float64Array;
  /** Σ_i M_i(p) so far, when asked for. */
  coverage(): Float64Array | undefined;
}

/**
 * A workspace for input `x` (one image, laid out as `view` says) and batches of at most maxBatch masks blended
 * towards `baseline`, summed into `maps` maps; `cover` keeps the coverage. WebAssembly where it runs and the
 * layout is planar (NCHW), else the same loops in JavaScript.
 */
export function maskWorkspace(
  x: Float32Array,
  view: ImageView,
  maxBatch: number,
  baseline: number,
  cover: boolean,
  maps = 1,
): MaskWorkspace {
  const setup = { x, view, maxBatch, baseline, cover, maps };
  const module = view.pixelStride === 1 ? kernelModule() : undefined;
  if (module)
    try {
      return simdWorkspace(module, setup);
    } catch (error) {
      // Past WebAssembly's 4 GB of memory, or refused by the host: the JavaScript loops need no one block.
      if (!(error instanceof RangeError)) throw error;
    }
  return jsWorkspace(setup);
}

interface Setup {
  readonly x: Float32Array;
  readonly view: ImageView;
  readonly maxBatch: number;
  readonly baseline: number;
  readonly cover: boolean;
  readonly maps: number;
}

function jsWorkspace({ x, view, maxBatch, baseline, cover, maps }: Setup): MaskWorkspace {
  const { plane, size } = view;
  const all = Array.from({ length: maps }, () => new Float64Array(plane));
  const coverage = cover ? new Float64Array(plane) : undefined;
  const out = new Float32Array(maxBatch * size);
  let last: Float32Array = new Float32Array(0);
  return {
    blend(planes, n) {
      last = planes;
      applyMasks(x, view, planes, n, baseline, out);
      return out.subarray(0, n * size);
    },
    add(k, w, t = 0) {
      const o = k * plane;
      const sums = all[t];
      if (coverage && t === 0)
        for (let j = 0; j < plane; j++) {
          const v = last[o + j];
          sums[j] += w * v;
          coverage[j] += v;
        }
      else for (let j = 0; j < plane; j++) sums[j] += w * last[o + j];
    },
    saliency: (t = 0) => all[t],
    coverage: () => coverage,
  };
}

function simdWorkspace(
  module: WebAssembly.Module,
  { x, view, maxBatch, baseline, cover, maps }: Setup,
): MaskWorkspace {
  const { plane, size, channels } = view;
  // The float64 sums first (maps, then the coverage), so they stay 8-byte aligned whatever the float32 sizes.
  const f64 = 8 * plane;
  const at = { s: 0, c: maps * f64, x: (maps + 1) * f64, m: (maps + 1) * f64 + 4 * size };
  const atOut = at.m + 4 * maxBatch * plane;
  const bytes = atOut + 4 * maxBatch * size;
  const pages = Math.ceil(bytes / 65536);
  if (!(pages <= 65536)) throw new RangeError(`${bytes} bytes do not fit in WebAssembly's memory`);
  const memory = new WebAssembly.Memory({ initial: Math.max(1, pages) });
  const k = new WebAssembly.Instance(module, { e: { m: memory } }).exports as unknown as Exports;
  const buffer = memory.buffer;
  const sums = new Float64Array(buffer, at.s, maps * plane);
  const coverage = new Float64Array(buffer, at.c, plane);
  const input = new Float32Array(buffer, at.x, size);
  input.set(x);
  const masks = new Float32Array(buffer, at.m, maxBatch * plane);
  const out = new Float32Array(buffer, atOut, maxBatch * size);
  const pairs = plane >> 1;
  const odd = plane & 1 ? plane - 1 : -1; // the last pixel of an odd plane, done here
  return {
    blend(planes, n) {
      masks.set(planes.subarray(0, n * plane));
      // Baseline 0 takes the float32 kernel, four pixels a turn; the pixels past the last whole turn are done here.
      const fast = baseline === 0;
      const done = fast ? plane & ~3 : plane & ~1;
      for (let i = 0; i < n; i++)
        for (let c = 0; c < channels; c++) {
          const o = (i * channels + c) * plane;
          const m = at.m + 4 * i * plane;
          if (fast) k.scale(m, at.x + 4 * c * plane, atOut + 4 * o, plane >> 2);
          else k.blend(m, at.x + 4 * c * plane, atOut + 4 * o, plane >> 1, baseline);
          for (let j = done; j < plane; j++)
            out[o + j] = baseline + masks[i * plane + j] * (input[c * plane + j] - baseline);
        }
      return out.subarray(0, n * size);
    },
    add(i, w, t = 0) {
      const m = at.m + 4 * i * plane;
      const both = cover && t === 0;
      if (both) k.axpy2(at.s, at.c, m, pairs, w);
      else k.axpy(at.s + t * f64, m, pairs, w);
      if (odd >= 0) {
        const v = masks[i * plane + odd];
        sums[t * plane + odd] += w * v;
        if (both) coverage[odd] += v;
      }
    },
    saliency: (t = 0) => sums.slice(t * plane, (t + 1) * plane),
    coverage: () => (cover ? coverage.slice() : undefined),
  };
}

/** Whether the WebAssembly kernels run here (for tests and benchmarks: the fallback gives the same maps). */
export const maskKernelsCompiled = (): boolean => kernelModule() !== undefined;
