// Every hostile or broken input a careless or malicious folder, download or flag can hand the CLI: each must
// end in a documented exit code and one paragraph naming the file, in bounded time and memory. The files are
// made here (nothing large is committed): the big pictures are tiny compressed files with huge headers.
import { execFileSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRow } from '../../src/audit/types.js';
import {
  attr,
  buildModel,
  encodeModel,
  floatTensor,
  int64Tensor,
  valueInfo,
} from '../../src/engines/onnx/proto.js';
import { encodeNpy } from '../../src/io/npy.js';
import { patchModelProto } from '../helpers/analytic.js';
import { SHARED_IMAGES } from '../helpers/cli.js';
import { blankPng } from '../helpers/images.js';
import { type MeasuredCliResult, runCliMeasured } from '../helpers/measured-cli.js';

/** The bounds for any one bad input. */
const TIME_LIMIT_MS = 10_000;
const MEMORY_LIMIT_BYTES = 1.5 * 1024 ** 3;
const SIZE = 32;

let dir: string;
const file = (name: string) => join(dir, name);

/** Deterministic "random" bytes (xorshift32), so a failure reproduces byte for byte. */
function noise(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

async function sparse(path: string, size: number): Promise<void> {
  await writeFile(path, new Uint8Array(0));
  await truncate(path, size);
}

/** A .npy file with any header text and data, true or not. */
function npyWith(header: string, data: Uint8Array, version = 1): Uint8Array {
  const text = new TextEncoder().encode(`${header}\n`);
  const lengthBytes = version === 1 ? 2 : 4;
  const out = new Uint8Array(8 + lengthBytes + text.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, text.length, true);
  else view.setUint32(8, text.length, true);
  out.set(text, 8 + lengthBytes);
  out.set(data, 8 + lengthBytes + text.length);
  return out;
}

/** A real JPEG whose frame header (SOF0) claims another size; the pixel data stays that of a 16×16 picture. */
async function jpegClaiming(width: number, height: number): Promise<Uint8Array> {
  const bytes = new Uint8Array(
    await sharp({ create: { width: 16, height: 16, channels: 3, background: '#808080' } })
      .jpeg({ mozjpeg: false })
      .toBuffer(),
  );
  for (let i = 2; i + 8 < bytes.length; i++) {
    if (bytes[i] === 0xff && bytes[i + 1] === 0xc0) {
      const view = new DataView(bytes.buffer, bytes.byteOffset);
      view.setUint16(i + 5, height);
      view.setUint16(i + 7, width);
      return bytes;
    }
  }
  throw new Error('no SOF0 marker in the JPEG sharp wrote');
}

/** scores = [log(mean(x) − 2), mean(x)]: NaN for every picture, whose pixels lie in [0, 1]. */
function nanModel(): Uint8Array {
  return encodeModel(
    buildModel({
      inputs: [valueInfo('x', ['N', 3, SIZE, SIZE])],
      outputs: [valueInfo('scores', ['N', 2])],
      initializers: [floatTensor('two', [1], new Float32Array([2])), int64Tensor('one', [1], [1])],
      nodes: [
        {
          opType: 'ReduceMean',
          input: ['x'],
          output: ['m'],
          attribute: [attr('axes', [1, 2, 3]), attr('keepdims', 0)],
        },
        { opType: 'Unsqueeze', input: ['m', 'one'], output: ['m1'] },
        { opType: 'Sub', input: ['m1', 'two'], output: ['d'] },
        { opType: 'Log', input: ['d'], output: ['log'] },
        { opType: 'Concat', input: ['log', 'm1'], output: ['scores'], attribute: [attr('axis', 1)] },
      ],
    }),
  );
}

/** scores = [mean(√x), −mean(√x)]: finite, but ∂/∂x = 1/(2√x) is infinite on a black picture. */
function infiniteGradientModel(): Uint8Array {
  return encodeModel(
    buildModel({
      inputs: [valueInfo('x', ['N', 3, SIZE, SIZE])],
      outputs: [valueInfo('scores', ['N', 2])],
      initializers: [int64Tensor('one', [1], [1])],
      nodes: [
        { opType: 'Sqrt', input: ['x'], output: ['root'] },
        {
          opType: 'ReduceMean',
          input: ['root'],
          output: ['m'],
          attribute: [attr('axes', [1, 2, 3]), attr('keepdims', 0)],
        },
        { opType: 'Unsqueeze', input: ['m', 'one'], output: ['m1'] },
        { opType: 'Neg', input: ['m1'], output: ['neg'] },
        { opType: 'Concat', input: ['m1', 'neg'], output: ['scores'], attribute: [attr('axis', 1)] },
      ],
    }),
  );
}

/**
 * A 4 MB ONNX file whose graph holds `count` empty nodes, two bytes each: decoded naively, every one is a
 * JavaScript object of a few hundred bytes (10 million took 2.5 GB).
 */
function emptyNodes(count: number): Uint8Array {
  const graph = new Uint8Array(2 * count);
  for (let i = 0; i < count; i++) graph[2 * i] = 0x0a; // field 1 (node), length-delimited, length 0
  const length: number[] = [];
  for (let v = graph.length; ; v >>>= 7) {
    if (v < 0x80) {
      length.push(v);
      break;
    }
    length.push((v & 0x7f) | 0x80);
  }
  return Uint8Array.from([0x3a, ...length, ...graph]);
}

/** The hostile pictures, by file name; each is refused with the exit code and message given. */
const BAD_IMAGES: Record<string, { code: 'IMAGE_TOO_LARGE' | 'IMAGE_DECODE'; message: RegExp }> = {
  'wide.png': {
    code: 'IMAGE_TOO_LARGE',
    message: /is 49000000×1, a side of 49000000 pixels, over the limit of 65535 pixels a side/,
  },
  'huge.png': { code: 'IMAGE_TOO_LARGE', message: /is 60000×60000 = 3600 megapixels, over the limit/ },
  'huge.jpg': { code: 'IMAGE_TOO_LARGE', message: /is 60000×60000 = 3600 megapixels, over the limit/ },
  'thin.png': {
    code: 'IMAGE_TOO_LARGE',
    message: /is 20000×2, an aspect ratio of 10000:1, beyond the limit/,
  },
  'half.jpg': { code: 'IMAGE_DECODE', message: /could not be decoded as JPEG \(the file may be truncated/ },
  'half.png': { code: 'IMAGE_DECODE', message: /could not be decoded as PNG \(the file may be truncated/ },
  'empty.png': { code: 'IMAGE_DECODE', message: /is empty \(0 bytes\)/ },
  'noise.jpg': { code: 'IMAGE_DECODE', message: /is not an image sharp can read/ },
  'sparse.png': {
    code: 'IMAGE_TOO_LARGE',
    message: /it is 600 MiB, over the limit of 512 MiB; expected a readable/,
  },
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sightline-hostile-'));
  await writeFile(file('wide.png'), blankPng(49_000_000, 1));
  await writeFile(file('huge.png'), blankPng(60_000, 60_000));
  await writeFile(file('huge.jpg'), await jpegClaiming(60_000, 60_000));
  await writeFile(file('thin.png'), blankPng(20_000, 2));
  const dog = await readFile(join(SHARED_IMAGES, 'dog.jpg'));
  const chelsea = await readFile(join(SHARED_IMAGES, 'chelsea.png'));
  await writeFile(file('half.jpg'), dog.subarray(0, dog.length >> 1));
  await writeFile(file('half.png'), chelsea.subarray(0, chelsea.length >> 1));
  await writeFile(file('empty.png'), new Uint8Array(0));
  await writeFile(file('noise.jpg'), noise(4096, 1));
  // Sparse files: their size is what the file system reports, but no disk or memory is used to make them.
  await sparse(file('sparse.png'), 600 * 1024 ** 2);
  await sparse(file('sparse.onnx'), 3 * 1024 ** 3);
  execFileSync('mkfifo', [file('a.png')]);
  await symlink('/dev/zero', file('zero.png'));
  await sharp({ create: { width: SIZE, height: SIZE, channels: 3, background: '#000000' } })
    .png()
    .toFile(file('black.png'));

  const patch = encodeModel(
    patchModelProto({ x0: 8, y0: 8, x1: 16, y1: 16 }, { dims: ['N', 3, SIZE, SIZE] }),
  );
  await writeFile(file('patch.onnx'), patch);
  await writeFile(file('classes.txt'), 'patch\nminus patch\n');
  await writeFile(file('noise.onnx'), noise(4096, 2));
  await writeFile(file('truncated.onnx'), patch.subarray(0, patch.length >> 1));
  // Field 7 (the graph), length-delimited, with a 10-byte varint length of 2^64 − 1.
  await writeFile(file('varint.onnx'), Uint8Array.of(0x3a, ...new Array(9).fill(0xff), 0x01, 1, 2, 3));
  // The same field claiming 2^31 − 1 bytes where 3 follow.
  await writeFile(file('overlong.onnx'), Uint8Array.of(0x3a, 0xff, 0xff, 0xff, 0xff, 0x07, 1, 2, 3));
  await writeFile(file('nodes.onnx'), emptyNodes(2_100_000));
  // A model whose sidecar (model.onnx → model.json, read for preprocessing hints) is a FIFO.
  await writeFile(file('sidecar.onnx'), patch);
  execFileSync('mkfifo', [file('sidecar.json')]);
  execFileSync('mkfifo', [file('fifo.onnx')]);
  await symlink('/dev/zero', file('zero.onnx'));
  await writeFile(file('nan.onnx'), nanModel());
  await writeFile(file('sqrt.onnx'), infiniteGradientModel());

  const input = encodeNpy(new Float32Array(3 * SIZE * SIZE), [1, 3, SIZE, SIZE]);
  await writeFile(file('seed.npy'), encodeNpy(Float32Array.of(1, 0), [1, 2]));
  await writeFile(file('cut.npy'), input.subarray(0, input.length - 100));
  await writeFile(
    file('lying.npy'),
    npyWith(
      "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000, 3, 1000, 1000), }",
      new Uint8Array(16),
    ),
  );
  await writeFile(
    file('overflow.npy'),
    npyWith(
      "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4294967296), }",
      new Uint8Array(16),
    ),
  );
  await writeFile(
    file('int64.npy'),
    npyWith("{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }", new Uint8Array(16)),
  );
  const bigHeader = npyWith(
    "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }",
    new Uint8Array(4),
    2,
  );
  new DataView(bigHeader.buffer).setUint32(8, 0xffffffff, true);
  await writeFile(file('header.npy'), bigHeader);
  execFileSync('mkfifo', [file('fifo.npy')]);
}, 60_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The contract for a refused input: its exit code, one line naming the file, no stack, bounded. */
function expectRefusal(result: MeasuredCliResult, exit: number, names: string, message: RegExp): void {
  expect(result.timedOut, `still running after ${TIME_LIMIT_MS} ms`).toBe(false);
  expect(result.code, result.stderr).toBe(exit);
  expect(result.stderr).toMatch(/^sightline: [^\n]+\n$/);
  expect(result.stderr).not.toMatch(/^\s+at /m);
  expect(result.stderr).not.toContain('unexpected error');
  expect(result.stderr).toContain(`'${names}'`);
  expect(result.stderr).toMatch(message);
  expect(result.peakRssBytes).toBeGreaterThan(10e6);
  expect(result.peakRssBytes).toBeLessThan(MEMORY_LIMIT_BYTES);
}

function modelArgs(model = 'patch.onnx'): string[] {
  return ['--model', file(model), '--mean', '0', '--std', '1', '--labels', file('classes.txt')];
}

function explainArgs(image: string, model = 'patch.onnx', method = 'occlusion'): string[] {
  return ['explain', image, ...modelArgs(model), '--method', method, '--out', file('out.png')];
}

describe('sightline explain refuses hostile pictures from their headers', () => {
  it.each(Object.entries(BAD_IMAGES))('%s', async (name, { message }) => {
    const result = await runCliMeasured(explainArgs(file(name)), { timeoutMs: TIME_LIMIT_MS });
    expectRefusal(result, 3, file(name), message);
  });

  it('a FIFO named a.png (reading it would wait for a writer forever)', async () => {
    const result = await runCliMeasured(explainArgs(file('a.png')), { timeoutMs: TIME_LIMIT_MS });
    expectRefusal(result, 3, file('a.png'), /it is a FIFO \(named pipe\), not a regular file/);
  });

  it.each(['/dev/zero', 'zero.png'])('%s, an endless device', async (name) => {
    const path = name.startsWith('/') ? name : file(name);
    const result = await runCliMeasured(explainArgs(path), { timeoutMs: TIME_LIMIT_MS });
    expectRefusal(result, 3, path, /it is a character device, not a regular file/);
  });
});

describe('sightline explain refuses malformed models with exit 4', () => {
  it.each([
    ['noise.onnx', /is not a valid ONNX model \(its protobuf encoding is broken: /],
    [
      'truncated.onnx',
      /is not a valid ONNX model \(its protobuf encoding is broken: a field at byte \d+ runs past/,
    ],
    [
      'varint.onnx',
      /is not a valid ONNX model \(its protobuf encoding is broken: a field at byte 11 runs past/,
    ],
    [
      'overlong.onnx',
      /is not a valid ONNX model \(its protobuf encoding is broken: a field at byte 6 runs past/,
    ],
    ['nodes.onnx', /would decode to more than 2000000 protobuf messages, strings and 64-bit integers/],
    ['sparse.onnx', /it is 3 GiB, over the limit of 2 GiB; expected an ONNX model file/],
    ['fifo.onnx', /it is a FIFO \(named pipe\), not a regular file; expected an ONNX model file/],
    ['zero.onnx', /it is a character device, not a regular file; expected an ONNX model file/],
  ])('%s', async (name, message) => {
    const result = await runCliMeasured(explainArgs(file('black.png'), name), { timeoutMs: TIME_LIMIT_MS });
    expectRefusal(result, 4, file(name), message);
  });

  it('a model whose sidecar is a FIFO', async () => {
    const result = await runCliMeasured(explainArgs(file('black.png'), 'sidecar.onnx'), {
      timeoutMs: TIME_LIMIT_MS,
    });
    expectRefusal(result, 4, file('sidecar.json'), /Cannot read the model's sidecar '.*': it is a FIFO/);
  });

  it('/dev/zero as the labels file', async () => {
    const args = ['explain', file('black.png'), '--model', file('patch.onnx'), '--labels', '/dev/zero'];
    const result = await runCliMeasured([...args, '--out', file('out.png')], { timeoutMs: TIME_LIMIT_MS });
    expectRefusal(
      result,
      3,
      '/dev/zero',
      /Cannot read the labels file '\/dev\/zero': it is a character device/,
    );
  });

  it('a model whose scores are NaN', async () => {
    const result = await runCliMeasured(explainArgs(file('black.png'), 'nan.onnx'), {
      timeoutMs: TIME_LIMIT_MS,
    });
    expectRefusal(
      result,
      4,
      file('nan.onnx'),
      /output 'scores' contains NaN at position 0; scores must be finite/,
    );
  });

  it('a model whose gradient is infinite is not drawn', async () => {
    const result = await runCliMeasured(explainArgs(file('black.png'), 'sqrt.onnx', 'gradient'), {
      timeoutMs: TIME_LIMIT_MS,
    });
    expectRefusal(
      result,
      4,
      file('sqrt.onnx'),
      /: The Vanilla gradient map for 'patch' has 1024 NaN or infinite values among its 1024 pixels/,
    );
  });
});

describe('sightline gradient refuses truncated and lying .npy inputs', () => {
  it.each([
    ['cut.npy', 2, /shape \(1, 3, 32, 32\) needs 12288 data bytes but only 12188 follow the header/],
    ['lying.npy', 2, /shape \(1000000, 3, 1000, 1000\) needs 12000000000000 data bytes but only 16 follow/],
    ['overflow.npy', 2, /needs more than 2\^53 data bytes but only 16 follow the header/],
    ['int64.npy', 2, /it holds dtype '<i8'; expected little-endian float32/],
    ['header.npy', 2, /its header claims 4294967295 bytes; numpy writes at most 10000/],
    ['fifo.npy', 3, /it is a FIFO \(named pipe\), not a regular file; expected a \.npy file/],
  ] as const)('%s', async (name, exit, message) => {
    const args = ['gradient', file('patch.onnx'), '--input', file(name), '--seed', file('seed.npy')];
    const result = await runCliMeasured([...args, '-o', file('grad.npy')], { timeoutMs: TIME_LIMIT_MS });
    expectRefusal(result, exit, file(name), message);
  });

  it('/dev/zero as the input', async () => {
    const args = ['gradient', file('patch.onnx'), '--input', '/dev/zero', '--seed', file('seed.npy')];
    const result = await runCliMeasured([...args, '-o', file('grad.npy')], { timeoutMs: TIME_LIMIT_MS });
    expectRefusal(result, 3, '/dev/zero', /it is a character device, not a regular file/);
  });
});

describe('sightline audit over a folder of all of them', () => {
  it('finishes with one error row per bad picture or special file, ok rows for the photos, and never reads special files', async () => {
    const folder = file('folder');
    const outside = file('outside');
    await mkdir(join(folder, 'loop'), { recursive: true });
    await mkdir(outside);
    for (const name of Object.keys(BAD_IMAGES))
      if (name === 'sparse.png') await sparse(join(folder, name), 600 * 1024 ** 2);
      else await copyFile(file(name), join(folder, name));
    await copyFile(join(SHARED_IMAGES, 'dog.jpg'), join(folder, 'dog.jpg'));
    await copyFile(join(SHARED_IMAGES, 'chelsea.png'), join(folder, 'chelsea.png'));
    execFileSync('mkfifo', [join(folder, 'a.png')]);
    await symlink('/dev/zero', join(folder, 'zero.png'));
    // A link to a photo inside the folder is followed; one to a photo outside it is not (a downloaded
    // dataset must not pull a private picture into a report), and two links to the parent must not make
    // the walk explode (each one doubles the tree a link-following walk sees, down to ELOOP).
    await symlink('dog.jpg', join(folder, 'dog-link.jpg'));
    await copyFile(join(SHARED_IMAGES, 'dog.jpg'), join(outside, 'private.jpg'));
    await symlink(join(outside, 'private.jpg'), join(folder, 'private.jpg'));
    await symlink('..', join(folder, 'loop', 'up'));
    await symlink('..', join(folder, 'loop', 'up-again'));

    const out = file('audit-out');
    const result = await runCliMeasured(
      [
        'audit',
        folder,
        '--model',
        file('patch.onnx'),
        '--mean',
        '0',
        '--std',
        '1',
        '--class-names',
        file('classes.txt'),
        '--method',
        'gradient',
        '--out',
        out,
      ],
      { timeoutMs: 120_000 },
    );
    expect(result.timedOut).toBe(false);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toContain('unexpected error');
    expect(result.peakRssBytes).toBeLessThan(MEMORY_LIMIT_BYTES);
    const rows = (await readFile(join(out, 'results.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as AuditRow);
    const byFile = new Map(rows.map((r) => [r.file, r]));
    // Special files and links out of the folder are never read, but each still gets a row that says what it is.
    const PASSED_OVER: Record<string, RegExp> = {
      'a.png': /'a\.png' is a FIFO \(named pipe\), not a regular file; expected a regular image file/,
      'zero.png': /'zero\.png' is a link to a place outside the audited folder/,
      'private.jpg': /'private\.jpg' is a link to a place outside the audited folder/,
    };
    expect([...byFile.keys()].sort()).toEqual(
      [
        ...Object.keys(BAD_IMAGES),
        ...Object.keys(PASSED_OVER),
        'chelsea.png',
        'dog.jpg',
        'dog-link.jpg',
      ].sort(),
    );
    for (const [name, message] of Object.entries(PASSED_OVER)) {
      expect(byFile.get(name), name).toMatchObject({ status: 'error', error: { code: 'IO' } });
      expect(byFile.get(name)?.error?.message).toMatch(message);
    }
    for (const name of ['chelsea.png', 'dog.jpg', 'dog-link.jpg']) {
      expect(byFile.get(name), name).toMatchObject({ status: 'ok' });
    }
    for (const [name, { code, message }] of Object.entries(BAD_IMAGES)) {
      const row = byFile.get(name);
      expect(row, name).toMatchObject({ status: 'error', error: { code } });
      expect(row?.error?.message).toContain(name);
      expect(row?.error?.message).toMatch(message);
      expect(row?.error?.message).not.toContain('\n');
    }
  }, 150_000);
});
