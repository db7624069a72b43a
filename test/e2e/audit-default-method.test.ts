// Needs dist/ (npm run build): audit and evaluate without --method(s) pick the methods from the model, as
// explain does (cli/options.ts defaultMethodId): a predict-only HTTP model gets RISE instead of failing every
// image on Grad-CAM, a model with gradients and a feature map keeps Grad-CAM; each says which ran.
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli as run } from '../helpers/cli.js';
import { DEFAULT_PATCH, type ModelServer, startModelServer } from '../helpers/http-model-server.js';

const TINY_CNN = fileURLToPath(new URL('../fixtures/golden/net_tiny_cnn.onnx', import.meta.url));
let dir: string;
let server: ModelServer;
/** Gradient graphs go to this test's own cache. */
const runCli = (args: string[]) => run(args, { env: { SIGHTLINE_CACHE_DIR: join(dir, 'cache') } });
const at = (name: string) => join(dir, name);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sightline-audit-default-method-'));
  server = await startModelServer();
  // The HTTP model reads only its patch (x, y 4–12 of its 32 × 32 input): bright there in a.png, dark in b.png.
  await mkdir(at('photos'));
  const { x0, y0, x1, y1 } = DEFAULT_PATCH;
  for (const [name, value] of [
    ['a.png', 220],
    ['b.png', 40],
  ] as const) {
    const data = Buffer.alloc(32 * 32 * 3, 128);
    for (let y = y0; y < y1; y++)
      for (let x = x0; x < x1; x++) for (let c = 0; c < 3; c++) data[(y * 32 + x) * 3 + c] = value;
    await sharp(data, { raw: { width: 32, height: 32, channels: 3 } })
      .png()
      .toFile(at(`photos/${name}`));
  }
  // The region where the model looks, by construction: its patch.
  await writeFile(
    at('patch.csv'),
    `file,x,y,width,height\na.png,${x0},${y0},${x1 - x0},${y1 - y0}\nb.png,${x0},${y0},${x1 - x0},${y1 - y0}\n`,
  );
});
afterAll(() => server.close());

describe('sightline audit without --method', () => {
  it('runs RISE on a predict-only HTTP model, says so, and its maps find the patch the model reads', async () => {
    const out = at('http');
    const r = await runCli([
      'audit',
      at('photos'),
      '--model',
      server.url,
      '--input-size',
      '32',
      '--masks',
      '300',
      '--regions',
      at('patch.csv'),
      '--pointing-tolerance',
      '0',
      '--out',
      out,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('with RISE.');
    expect(r.stderr).toContain(
      "RISE is the default for models without gradients or feature maps; 'sightline explain --list-methods' for the others.",
    );
    const { config } = JSON.parse(await readFile(join(out, 'summary.json'), 'utf8'));
    expect(config.method).toBe('rise');
    const rows = (await readFile(join(out, 'results.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rows.map((x) => [x.file, x.status, x.predictions[0].label])).toEqual([
      ['a.png', 'ok', 'bright'],
      ['b.png', 'ok', 'dark'],
    ]);
    // RISE's map has the model's mean score everywhere beneath its signal, so its share in the patch is small;
    // its peak, though, lies in the patch (tolerance 0 px), the only pixels the model reads.
    for (const row of rows)
      expect([row.region.peakInside, row.region.tolerance], row.file).toEqual([true, 0]);
  }, 120_000);

  it('keeps Grad-CAM on a model with gradients and a feature map, and says how to ask for RISE', async () => {
    const r = await runCli(['audit', at('photos'), '--model', TINY_CNN, '--out', at('cnn')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('with Grad-CAM.');
    expect(r.stderr).toContain('Grad-CAM is the default for models with gradients; --method rise for RISE');
    // Asked for, a method runs without the note.
    const asked = await runCli([
      'audit',
      at('photos'),
      '--model',
      TINY_CNN,
      '--method',
      'gradient',
      '--out',
      at('asked'),
    ]);
    expect(asked.code, asked.stderr).toBe(0);
    expect(asked.stderr).toContain('with Vanilla gradient');
    expect(asked.stderr).not.toContain('is the default');
  }, 120_000);

  it('refuses an unknown --method before the model loads (exit 2)', async () => {
    const before = server.requests.length;
    const r = await runCli([
      'audit',
      at('photos'),
      '--model',
      server.url,
      '--method',
      'grad-came',
      '--out',
      at('bad'),
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('got "grad-came"');
    expect(server.requests.length).toBe(before);
  }, 60_000);
});

describe('sightline evaluate without --methods', () => {
  it('leaves out the methods a predict-only model cannot run, saying which, and runs RISE', async () => {
    const out = at('ev');
    const r = await runCli([
      'evaluate',
      at('photos/a.png'),
      '--model',
      server.url,
      '--input-size',
      '32',
      '--masks',
      '100',
      '--metrics',
      'deletion',
      '--curve-steps',
      '8',
      '--out',
      out,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(
      'sightline: note: gradient and grad-cam are left out of the default methods: this model offers no input gradients or feature map; --methods names others.',
    );
    expect(r.stderr).toContain('Evaluating 1 image with rise.');
    expect(r.stderr).not.toContain('failed');
    const e = JSON.parse(await readFile(join(out, 'evaluation.json'), 'utf8'));
    expect(e.settings.methods).toEqual(['rise']);
    expect(e.images[0].methods.map((m: { method: string; error?: string }) => [m.method, m.error])).toEqual([
      ['rise', undefined],
    ]);
  }, 120_000);
});
