// Zipped TF.js models built to hurt: bytes that do not match their CRC, entries that inflate far past what they
// declare, too many entries, names that climb out of the zip. Each is refused with MODEL_LOAD, quickly.
import { strToU8, type Zippable, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { SightlineError } from '../../src/core/errors.js';
import { MAX_ZIP_ENTRIES, readTfjsZip } from '../../src/models/tfjs-source.js';
import { crc32 } from '../../src/models/tfjs-zip.js';

const WEIGHTS = new Uint8Array(new Float32Array([1.5, -2]).buffer);
const MODEL_JSON = JSON.stringify({
  format: 'layers-model',
  modelTopology: { class_name: 'Sequential', config: { layers: [] } },
  weightsManifest: [{ paths: ['w.bin'], weights: [{ name: 'k', shape: [2], dtype: 'float32' }] }],
});

function files(extra: Zippable = {}): Zippable {
  return { 'model.json': strToU8(MODEL_JSON), 'w.bin': WEIGHTS, ...extra };
}

/** The offsets of each central directory record, by entry name. */
function central(zip: Uint8Array): Map<string, number> {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const out = new Map<string, number>();
  for (let p = 0; p + 46 <= zip.length; p++) {
    if (view.getUint32(p, true) !== 0x02014b50) continue;
    const length = view.getUint16(p + 28, true);
    out.set(new TextDecoder().decode(zip.subarray(p + 46, p + 46 + length)), p);
  }
  return out;
}

/** The zip with `name`'s declared uncompressed size (central directory) rewritten. */
function declare(zip: Uint8Array, name: string, size: number): Uint8Array {
  const out = zip.slice();
  new DataView(out.buffer).setUint32((central(out).get(name) ?? -1) + 24, size, true);
  return out;
}

async function refusal(promise: Promise<unknown>): Promise<SightlineError> {
  const started = performance.now();
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(performance.now() - started).toBeLessThan(10_000);
  expect(error).toBeInstanceOf(SightlineError);
  expect((error as SightlineError).code).toBe('MODEL_LOAD');
  return error as SightlineError;
}

describe('crc32', () => {
  it('gives the check value of the CRC-32 catalogue and what fflate writes', () => {
    // The standard check value: CRC-32 of the ASCII digits 1 to 9.
    expect(crc32(strToU8('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
    const zip = zipSync({ 'a.bin': WEIGHTS });
    const at = central(zip).get('a.bin') ?? -1;
    expect(crc32(WEIGHTS)).toBe(new DataView(zip.buffer).getUint32(at + 16, true));
  });
});

describe('a hostile zip', () => {
  it('reads a good one', async () => {
    for (const level of [0, 6] as const) {
      const source = await readTfjsZip(zipSync(files(), { level }), 'good.zip');
      expect([...source.artifacts.groups[0]]).toEqual([...WEIGHTS]);
    }
  });

  it('bytes changed after zipping fail the CRC check', async () => {
    const zip = zipSync(files(), { level: 0 });
    // Stored: w.bin's 8 bytes lie as they are after its local header; flip one.
    const at = zip.findIndex((_, i) => WEIGHTS.every((b, j) => zip[i + j] === b));
    zip[at + 3] ^= 0x40;
    const error = await refusal(readTfjsZip(zip, 'flipped.zip'));
    expect(error.message).toMatch(
      /^'flipped\.zip' is damaged: 'w\.bin' has CRC-32 0x[0-9a-f]{8}; the zip says 0x[0-9a-f]{8}, so its bytes are not the ones that were zipped\.$/,
    );
  });

  it('a bomb: 32 MB of zeros declared as 8 bytes stops at the declared size', async () => {
    const bomb = declare(
      zipSync(files({ 'w.bin': new Uint8Array(32 * 1024 * 1024) }), { level: 1 }),
      'w.bin',
      8,
    );
    expect(bomb.length).toBeLessThan(2 * 1024 * 1024);
    const error = await refusal(readTfjsZip(bomb, 'bomb.zip'));
    expect(error.message).toBe(
      "'bomb.zip' is damaged: 'w.bin' unpacks to more than the 8 bytes the zip says.",
    );
  });

  it('a metadata.json declared over its 4 MB limit is unpacked no further than the limit', async () => {
    // 5 MB of zeros that the zip declares as 100 MB: unpacked to its end, it would be found short (damaged);
    // unpacked only past the 4 MB limit, as it must be, it is refused as too large.
    const zip = declare(
      zipSync(files({ 'metadata.json': new Uint8Array(5 * 1024 * 1024) }), { level: 1 }),
      'metadata.json',
      100 * 1024 * 1024,
    );
    const error = await refusal(readTfjsZip(zip, 'meta.zip'));
    expect(error.message).toMatch(
      /^'meta\.zip\/metadata\.json' holds more than the limit of 4 MB for this file/,
    );
  });

  it('a weight file declared larger than the manifest says is unpacked no further than the manifest', async () => {
    const zip = declare(
      zipSync(files({ 'w.bin': new Uint8Array(1024 * 1024) }), { level: 1 }),
      'w.bin',
      64 * 1024 * 1024,
    );
    const error = await refusal(readTfjsZip(zip, 'w.zip'));
    expect(error.message).toBe(
      "The weight files 'w.bin' of 'w.zip/model.json' hold more than 8 bytes; the manifest describes 8.",
    );
  });

  it('an entry declaring 4 GB is refused before anything is inflated', async () => {
    const error = await refusal(readTfjsZip(declare(zipSync(files()), 'w.bin', 0xfffffffe), 'big.zip'));
    expect(error.message).toMatch(/^'big\.zip' unpacks to more than 512 MB \('w\.bin' alone is 4096 MB\)/);
  });

  it(`more than ${MAX_ZIP_ENTRIES} entries are refused before they are listed`, async () => {
    const many: Zippable = {};
    for (let i = 0; i <= MAX_ZIP_ENTRIES; i++) many[`e${i}`] = new Uint8Array(0);
    const error = await refusal(readTfjsZip(zipSync(files(many), { level: 0 }), 'many.zip'));
    expect(error.message).toBe(
      `'many.zip' lists ${MAX_ZIP_ENTRIES + 3} entries, over the limit of ${MAX_ZIP_ENTRIES}; a model export holds a few files.`,
    );
  });

  it.each([
    ['../model.json', "climbs out of the zip's folder with '..'"],
    ['m/../../w.bin', "climbs out of the zip's folder with '..'"],
    ['/etc/passwd', 'is an absolute path'],
    ['C:/model.json', 'is an absolute path'],
    ['m\\..\\x', 'holds a backslash or NUL'],
  ])('an entry named %s is refused', async (name, why) => {
    const error = await refusal(readTfjsZip(zipSync(files({ [name]: WEIGHTS })), 'evil.zip'));
    expect(error.message).toBe(
      `'evil.zip' holds an entry named ${JSON.stringify(name)}, which ${why}; a model export names its files relative to the zip. Sightline refuses such a zip.`,
    );
  });

  it('a Zip64 field that claims bytes past the end of the file is refused, not read as offset -1', async () => {
    // Hand-made: the end record first, then (in its comment) one central entry for model.json whose local offset
    // is 0xFFFFFFFF, so its Zip64 field is due, and whose Zip64 field declares 8 bytes that the file lacks.
    const name = strToU8('model.json');
    const zip = new Uint8Array(22 + 46 + name.length + 4);
    const view = new DataView(zip.buffer);
    view.setUint32(0, 0x06054b50, true);
    view.setUint16(8, 1, true);
    view.setUint16(10, 1, true);
    view.setUint32(12, 46 + name.length + 4, true);
    view.setUint32(16, 22, true);
    view.setUint16(20, 46 + name.length + 4, true);
    view.setUint32(22, 0x02014b50, true);
    view.setUint32(22 + 20, 8, true);
    view.setUint32(22 + 24, 8, true);
    view.setUint16(22 + 28, name.length, true);
    view.setUint16(22 + 30, 4, true);
    view.setUint32(22 + 42, 0xffffffff, true);
    zip.set(name, 22 + 46);
    view.setUint16(22 + 46 + name.length, 1, true);
    view.setUint16(22 + 46 + name.length + 2, 8, true);
    const error = await refusal(readTfjsZip(zip, 'zip64.zip'));
    expect(error.message).toBe("'zip64.zip' is not a readable zip file: invalid zip64 data.");
  });

  it('a zip inside the zip is not opened: its model does not count', async () => {
    const nested = zipSync({ 'inner.zip': zipSync(files()) });
    const error = await refusal(readTfjsZip(nested, 'nested.zip'));
    expect(error.message).toBe(
      "'nested.zip' holds no model.json (it holds inner.zip); a TF.js export zip holds model.json, its weight files and metadata.json.",
    );
  });

  it('a manifest path that climbs out of the zip is refused', async () => {
    const json = MODEL_JSON.replace('"w.bin"', '"../w.bin"');
    const error = await refusal(
      readTfjsZip(zipSync({ 'm/model.json': strToU8(json), 'w.bin': WEIGHTS }), 'up.zip'),
    );
    expect(error.message).toMatch(/lists weight file "\.\.\/w\.bin", which climbs out of the model's folder/);
  });
});
