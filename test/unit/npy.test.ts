import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SightlineError } from '../../src/core/errors.js';
import { decodeNpy, encodeNpy } from '../../src/io/npy.js';
import { readNpy, writeNpy } from '../../src/io/npy-file.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sightline-npy-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function latin1(bytes: Uint8Array): string {
  return new TextDecoder('latin1').decode(bytes);
}

/** A hand-made .npy (any version, dtype, order) for the reader's tests. */
function npy(header: string, body: ArrayBufferView, version = 1): Uint8Array {
  const lengthBytes = version === 1 ? 2 : 4;
  const prefix = 8 + lengthBytes;
  const padded = header.padEnd(Math.ceil((prefix + header.length + 1) / 64) * 64 - prefix - 1, ' ');
  const out = new Uint8Array(prefix + padded.length + 1 + body.byteLength);
  out.set([0x93, ...new TextEncoder().encode('NUMPY'), version, 0]);
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, padded.length + 1, true);
  else view.setUint32(8, padded.length + 1, true);
  out.set(new TextEncoder().encode(`${padded}\n`), prefix);
  out.set(new Uint8Array(body.buffer, body.byteOffset, body.byteLength), prefix + padded.length + 1);
  return out;
}

describe('encodeNpy', () => {
  it('writes the version 1.0 header byte for byte as the format spec and numpy.save do', () => {
    const bytes = encodeNpy(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]);
    // Magic string, then major and minor version.
    expect([...bytes.subarray(0, 8)]).toEqual([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
    // Header length, little-endian uint16: 10 + 118 = 128, a multiple of 64.
    expect([bytes[8], bytes[9]]).toEqual([118, 0]);
    const dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
    // numpy leaves 21 − len("3") spaces after the dict so the shape can grow in place, then pads to 64.
    const header = `${`${dict}${' '.repeat(20)}`.padEnd(117, ' ')}\n`;
    expect(latin1(bytes.subarray(10, 128))).toBe(header);
    expect(bytes.length).toBe(128 + 6 * 4);
    // Data: little-endian float32, 1.0 = 0x3f800000.
    expect([...bytes.subarray(128, 132)]).toEqual([0x00, 0x00, 0x80, 0x3f]);
  });

  it('writes one-element tuples with a trailing comma and scalars as ()', () => {
    expect(latin1(encodeNpy(new Float32Array(5), [5]))).toContain("'shape': (5,), }");
    expect(latin1(encodeNpy(new Float32Array([7]), []))).toContain("'shape': (), }");
  });

  it('puts the data on a 64-byte boundary for any shape', () => {
    for (const shape of [[1], [224, 224], [1, 3, 224, 224], [123456789012, 0], []]) {
      const size = shape.reduce((a, b) => a * b, 1);
      const bytes = encodeNpy(new Float32Array(size), shape);
      const headerEnd = 10 + (bytes[8] | (bytes[9] << 8));
      expect(headerEnd % 64).toBe(0);
      expect(bytes[headerEnd - 1]).toBe(0x0a);
    }
  });

  it('refuses a shape that does not match the data', () => {
    expect(() => encodeNpy(new Float32Array(6), [4, 2])).toThrow(
      "Argument 'shape' must be dimensions whose product equals the data length 6; got [4, 2].",
    );
    expect(() => encodeNpy(new Float32Array(6), [2, 3.5])).toThrow(SightlineError);
  });
});

describe('decodeNpy', () => {
  it('round-trips through encodeNpy', () => {
    const data = new Float32Array([0, -1.5, Math.PI, 1e-30, -3e38, 42]);
    const back = decodeNpy(encodeNpy(data, [3, 1, 2]));
    expect(back.shape).toEqual([3, 1, 2]);
    expect(back.data).toEqual(data);
  });

  it('reads float64 and narrows it to float32', () => {
    const bytes = npy(
      "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }",
      new Float64Array([0.1, -2, 1e300]),
    );
    const { data, shape } = decodeNpy(bytes);
    expect(shape).toEqual([3]);
    expect([...data]).toEqual([Math.fround(0.1), -2, Infinity]);
  });

  it('reorders Fortran-ordered data into C order', () => {
    // The 2×3 matrix [[1, 2, 3], [4, 5, 6]] stored column by column.
    const bytes = npy(
      "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }",
      new Float32Array([1, 4, 2, 5, 3, 6]),
    );
    expect([...decodeNpy(bytes).data]).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('reads format versions 2.0 and 3.0 (four-byte header length)', () => {
    for (const version of [2, 3]) {
      const bytes = npy(
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }",
        new Float32Array([1, 2]),
        version,
      );
      expect([...decodeNpy(bytes).data]).toEqual([1, 2]);
    }
  });

  it('reads from an unaligned view', () => {
    const inner = encodeNpy(new Float32Array([1, 2, 3]), [3]);
    const outer = new Uint8Array(inner.length + 3);
    outer.set(inner, 3);
    expect([...decodeNpy(outer.subarray(3)).data]).toEqual([1, 2, 3]);
  });

  it.each([
    ['<i4', "it holds dtype '<i4'; expected little-endian float32 ('<f4') or float64 ('<f8')"],
    ['>f4', "it holds dtype '>f4'; expected little-endian float32 ('<f4') or float64 ('<f8')"],
    ['<f2', "it holds dtype '<f2'; expected little-endian float32 ('<f4') or float64 ('<f8')"],
  ])('refuses dtype %s', (descr, reason) => {
    const bytes = npy(`{'descr': '${descr}', 'fortran_order': False, 'shape': (1,), }`, new Float32Array(1));
    expect(() => decodeNpy(bytes, 'map.npy')).toThrow(`'map.npy' is not a usable .npy array: ${reason}.`);
  });

  it('refuses non-npy bytes and truncated data', () => {
    expect(() => decodeNpy(new TextEncoder().encode('hello, world'), 'x.npy')).toThrow(
      `'x.npy' is not a usable .npy array: it does not start with the NumPy magic string "\\x93NUMPY".`,
    );
    const whole = encodeNpy(new Float32Array(10), [10]);
    expect(() => decodeNpy(whole.subarray(0, whole.length - 1), 'cut.npy')).toThrow(
      "'cut.npy' is not a usable .npy array: shape (10) needs 40 data bytes but only 39 follow the header (truncated?).",
    );
    expect(() => decodeNpy(whole.subarray(0, 50), 'cut.npy')).toThrow('the file ends inside the header');
  });
});

describe('decodeNpy: lying headers', () => {
  const header = (shape: string) => `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape}), }`;

  it('refuses a shape larger than the data before allocating it', () => {
    expect(() => decodeNpy(npy(header('1000000, 3, 1000, 1000'), new Float32Array(4)), 'big.npy')).toThrow(
      "'big.npy' is not a usable .npy array: shape (1000000, 3, 1000, 1000) needs 12000000000000 data bytes but only 16 follow the header (truncated?).",
    );
  });

  it('refuses a shape whose product passes 2^53 (it would lose precision and could wrap)', () => {
    // 2^32 · 2^32 · 2^32 = 2^96: multiplied out in floats it is still "big", but no exact count exists.
    expect(() =>
      decodeNpy(npy(header('4294967296, 4294967296, 4294967296'), new Float32Array(4)), 'o.npy'),
    ).toThrow(
      "'o.npy' is not a usable .npy array: shape (4294967296, 4294967296, 4294967296) needs more than 2^53 data bytes but only 16 follow the header (truncated?).",
    );
  });

  it('reads a zero-sized array whatever its other dimensions claim', () => {
    expect(decodeNpy(npy(header('0, 99999999999999999999'), new Float32Array(0)))).toEqual({
      data: new Float32Array(0),
      shape: [0, 1e20],
    });
  });

  it('refuses shapes that are not plain integers', () => {
    for (const shape of ['-1, 2', '0x10,', '1e3,', '2.5,']) {
      expect(() => decodeNpy(npy(header(shape), new Float32Array(4)), 's.npy'), shape).toThrow(
        `'s.npy' is not a usable .npy array: the shape (${shape}) is not integers.`,
      );
    }
  });

  it('refuses a header longer than numpy would read', () => {
    const bytes = npy(header('1,'), new Float32Array(1), 2);
    new DataView(bytes.buffer).setUint32(8, 0xffffffff, true);
    expect(() => decodeNpy(bytes, 'h.npy')).toThrow(
      "'h.npy' is not a usable .npy array: its header claims 4294967295 bytes; numpy writes at most 10000.",
    );
  });
});

describe('readNpy / writeNpy', () => {
  it('round-trips through a file', async () => {
    const path = join(dir, 'map.npy');
    const data = new Float32Array(12).map((_, i) => i / 7 - 0.5);
    await writeNpy(path, data, [3, 4]);
    expect(await readNpy(path)).toEqual({ data, shape: [3, 4] });
  });

  it('names a missing file', async () => {
    const path = join(dir, 'missing.npy');
    const error = await readNpy(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SightlineError);
    expect((error as SightlineError).code).toBe('IO');
    expect((error as SightlineError).message).toContain(`Cannot read '${path}'`);
  });
});

const numpyCheck = spawnSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' });
const hasNumpy = numpyCheck.status === 0;
if (!hasNumpy)
  console.warn('numpy is not importable by python3 here; skipping the numpy interoperability tests.');

describe.skipIf(!hasNumpy)('interoperability with numpy', () => {
  it('numpy loads our file, and writes the very same bytes for the same array', async () => {
    const path = join(dir, 'ours.npy');
    const data = new Float32Array(2 * 3 * 4).map((_, i) => (i % 5) * 0.25 - 1);
    await writeNpy(path, data, [2, 3, 4]);
    const script = [
      'import numpy as np, sys, io',
      'a = np.load(sys.argv[1])',
      'assert a.dtype == np.float32 and a.shape == (2, 3, 4), (a.dtype, a.shape)',
      'expected = ((np.arange(24) % 5) * 0.25 - 1).astype(np.float32).reshape(2, 3, 4)',
      'assert np.array_equal(a, expected)',
      'b = io.BytesIO(); np.save(b, expected)',
      'assert b.getvalue() == open(sys.argv[1], "rb").read(), "bytes differ from numpy.save"',
      'print("ok")',
    ].join('\n');
    expect(execFileSync('python3', ['-c', script, path], { encoding: 'utf8' }).trim()).toBe('ok');
  });

  it('we load what numpy writes: float32, float64 and Fortran order', async () => {
    const script = [
      'import numpy as np, sys',
      'm = np.arange(6, dtype=np.float64).reshape(2, 3) / 4',
      'np.save(sys.argv[1] + "/f4.npy", m.astype(np.float32))',
      'np.save(sys.argv[1] + "/f8.npy", m)',
      'np.save(sys.argv[1] + "/fortran.npy", np.asfortranarray(m.astype(np.float32)))',
    ].join('\n');
    execFileSync('python3', ['-c', script, dir]);
    const want = [0, 0.25, 0.5, 0.75, 1, 1.25];
    for (const name of ['f4', 'f8', 'fortran']) {
      const { data, shape } = await readNpy(join(dir, `${name}.npy`));
      expect(shape).toEqual([2, 3]);
      expect([...data]).toEqual(want);
    }
    const header = new TextDecoder('latin1').decode(
      (await readFile(join(dir, 'fortran.npy'))).subarray(10, 60),
    );
    expect(header).toContain("'fortran_order': True");
  });
});
