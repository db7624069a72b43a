// `sightline explain photo --model folder/` with the Hugging Face and timm folders of test/fixtures/hf (made by
// scripts/golden/hf_folders.py): labels from id2label / label_names, probabilities as torch's on the library's
// own pixel values, and refusals with the model exit code.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeNpy } from '../../src/io/npy.js';
import { runCli, SHARED_IMAGES } from '../helpers/cli.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/hf/', import.meta.url));
const CHELSEA = join(SHARED_IMAGES, 'chelsea.png');
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sightline-hf-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Softmax of torch's logits on the library's pixel values, as percentages with their labels, best first. */
function torchTop(folder: string): { label: string; percent: number }[] {
  const logits = Array.from(
    decodeNpy(new Uint8Array(readFileSync(join(FIXTURES, `${folder}.chelsea.logits.npy`)))).data,
  );
  const labels: string[] = JSON.parse(readFileSync(join(FIXTURES, 'expected.json'), 'utf8'))[folder].labels;
  const m = Math.max(...logits);
  const e = logits.map((v) => Math.exp(v - m));
  const sum = e.reduce((a, b) => a + b, 0);
  return e
    .map((v, i) => ({ label: labels[i], percent: (100 * v) / sum }))
    .sort((a, b) => b.percent - a.percent);
}

describe('sightline explain --model <Hugging Face or timm folder>', () => {
  it.each(['hf-vit', 'timm-net'])(
    'prints the %s folder’s labels with torch’s probabilities',
    async (folder) => {
      const out = join(dir, `${folder}.png`);
      const result = await runCli([
        'explain',
        CHELSEA,
        '--model',
        join(FIXTURES, folder),
        '--method',
        'grad-cam',
        '--out',
        out,
      ]);
      expect(result.code, result.stderr).toBe(0);
      const printed = [...result.stdout.matchAll(/^\s+([\d.]+)%\s+(.+) \((\d+)\)$/gm)].map((m) => ({
        label: m[2],
        percent: Number(m[1]),
      }));
      const want = torchTop(folder);
      expect(printed.map((p) => p.label)).toEqual(want.map((w) => w.label));
      // Printed to 0.1 points; our resampling differs from PIL's 8-bit one by under a level (hf-folder.test.ts).
      for (let i = 0; i < want.length; i++)
        expect(Math.abs(printed[i].percent - want[i].percent)).toBeLessThanOrEqual(0.1);
      expect(result.stdout).toContain(`Grad-CAM map for '${want[0].label}' written to ${out}`);
    },
    60_000,
  );

  it('--target matches the folder’s labels, and --json says so', async () => {
    const result = await runCli([
      'explain',
      CHELSEA,
      '--model',
      join(FIXTURES, 'hf-vit'),
      '--target',
      'coffee mug',
      '--method',
      'gradient',
      '--json',
      '--out',
      join(dir, 't.png'),
    ]);
    expect(result.code, result.stderr).toBe(0);
    const json = JSON.parse(result.stdout);
    expect(json.task).toBe('classify');
    expect(json.target).toEqual({ index: 1, label: 'coffee mug' });
  }, 60_000);

  it('refuses a float16 variant and a folder with neither layout with the model exit code (4)', async () => {
    const fp16 = await runCli([
      'explain',
      CHELSEA,
      '--model',
      join(FIXTURES, 'hf-vit'),
      '--model-variant',
      'fp16',
      '--out',
      join(dir, 'f.png'),
    ]);
    expect(fp16.code).toBe(4);
    expect(fp16.stderr).toContain('takes or gives float16 tensors');
    const neither = await runCli(['explain', CHELSEA, '--model', FIXTURES, '--out', join(dir, 'n.png')]);
    expect(neither.code).toBe(4);
    expect(neither.stderr).toContain('holds neither config.json nor model.json; expected a TF.js model');
  }, 60_000);

  it('--help names the folder layouts and --model-variant', async () => {
    const help = await runCli(['explain', '--help']);
    expect(help.stdout.replace(/\s+/g, ' ')).toContain(
      'a Hugging Face folder (config.json, preprocessor_config.json, onnx/model.onnx), a timm folder (config.json, model.onnx)',
    );
    expect(help.stdout).toContain('--model-variant <name>');
  });
});
