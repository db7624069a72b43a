// The CLI's evaluate and audit on a segmenter and an embedding model (issue 13), as a user runs them: the
// analytic models of test/helpers/target-models.ts on disk, the built CLI.
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeModel } from '../../src/engines/onnx/proto.js';
import type { Patch } from '../helpers/analytic.js';
import { runCli } from '../helpers/cli.js';
import { embedderProto, photo, SIZE, segmenterProto } from '../helpers/target-models.js';

const READ1: Patch = { x0: 0, y0: 0, x1: 6, y1: 6 };
const OWN1: Patch = { x0: 6, y0: 6, x1: 8, y1: 8 };
const READ2: Patch = { x0: 6, y0: 0, x1: 8, y1: 4 };
const OWN2: Patch = { x0: 0, y0: 6, x1: 2, y1: 8 };
const SHARED: Patch = { x0: 4, y0: 12, x1: 20, y1: 28 };

let dir: string;
const at = (name: string) => join(dir, name);

async function png(name: string, image: { width: number; height: number; data: Uint8Array }) {
  await sharp(Buffer.from(image.data), { raw: { width: image.width, height: image.height, channels: 3 } })
    .png()
    .toFile(at(name));
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sightline-wide-'));
  await writeFile(at('seg.onnx'), encodeModel(segmenterProto([READ1, READ2], [OWN1, OWN2])));
  await writeFile(
    at('seg.json'),
    JSON.stringify({ labels: ['background', 'cat', 'dog'], mean: [0], std: [1] }),
  );
  await writeFile(at('embed.onnx'), encodeModel(embedderProto()));
  await writeFile(at('embed.json'), JSON.stringify({ task: 'embed', mean: [0], std: [1] }));
  await mkdir(at('photos'));
  await png('photos/white.png', {
    width: SIZE,
    height: SIZE,
    data: new Uint8Array(SIZE * SIZE * 3).fill(255),
  });
  await mkdir(at('pair'));
  await png(
    'pair/a.png',
    photo(1, [
      { patch: SHARED, rgb: [0, 255, 0] },
      { patch: { x0: 20, y0: 0, x1: 32, y1: 12 }, rgb: [255, 0, 0] },
    ]),
  );
  await png(
    'b.png',
    photo(2, [
      { patch: SHARED, rgb: [0, 255, 0] },
      { patch: { x0: 0, y0: 0, x1: 12, y1: 8 }, rgb: [0, 0, 255] },
    ]),
  );
});

describe('--list-layers --json says whether rollout runs', () => {
  it('attention: true on the ViT, false on Swin (windowed, no class token)', async () => {
    const fixtures = new URL('../fixtures/transformers/', import.meta.url).pathname;
    for (const [name, attention] of [
      ['vit_tiny', true],
      ['swin_tiny', false],
    ] as const) {
      const r = await runCli(['explain', '--list-layers', '--json', '-m', join(fixtures, `${name}.onnx`)]);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout).attention).toBe(attention);
    }
  });
});

describe('sightline explain on a segmenter, default class', () => {
  it('passes over the background and says so', async () => {
    const r = await runCli([
      'explain',
      at('photos/white.png'),
      '-m',
      at('seg.onnx'),
      '--method',
      'gradient',
      '--out',
      at('x.png'),
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(
      "explaining 'cat' (1) (the largest class besides 'background' (0); --target names another): its scores summed over its own 4 output pixels\n",
    );
  });
});

describe('sightline evaluate', () => {
  it("on a segmenter: the curves follow cat's sum over its cells, and the outputs say so", async () => {
    const out = at('eval-seg');
    const r = await runCli([
      'evaluate',
      at('photos'),
      '-m',
      at('seg.onnx'),
      '--methods',
      'gradient',
      '--metrics',
      'deletion,insertion',
      '--out',
      out,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("Deletion and insertion follow the sum of class 'cat' over its region.\n");
    const json = JSON.parse(await readFile(join(out, 'evaluation.json'), 'utf8'));
    expect(json.task).toBe('segment');
    expect(json.quantity).toBe("sum of class 'cat' over its region");
    const [image] = json.images;
    expect(image.target).toMatchObject({
      label: 'cat',
      description: { kind: 'segment', class: 1, pixels: 4 },
    });
    // White: cat's 4 cells score 4 × (1 + 5) = 24 before any deletion, 4 × 5 = 20 once READ1 is gone.
    const curve = image.methods[0].curves.deletion;
    expect(curve[0]).toBeCloseTo(24, 4);
    expect(curve[curve.length - 1]).toBeCloseTo(20, 4);
    const html = await readFile(join(out, 'evaluation.html'), 'utf8');
    expect(html).toContain(
      'the area under the curve of the sum of class &#39;cat&#39; over its region, in the model’s own units',
    );
  });

  it('on an embedding model: --reference is required (exit 2); with it the curves follow the cosine', async () => {
    const refused = await runCli([
      'evaluate',
      at('pair'),
      '-m',
      at('embed.onnx'),
      '--methods',
      'gradient',
      '--out',
      at('eval-none'),
    ]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(
      'An embedding model is evaluated against a reference: --reference other.jpg',
    );
    const out = at('eval-embed');
    const r = await runCli([
      'evaluate',
      at('pair'),
      '-m',
      at('embed.onnx'),
      '--reference',
      at('b.png'),
      '--methods',
      'grad-cam',
      '--metrics',
      'deletion',
      '--out',
      out,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(await readFile(join(out, 'evaluation.json'), 'utf8'));
    expect(json.quantity).toBe('cosine similarity to the reference');
    expect(json.settings.reference).toBe(at('b.png'));
    const cosine = 4 / (Math.sqrt(6.25) * Math.sqrt(5.5));
    expect(json.images[0].methods[0].curves.deletion[0]).toBeCloseTo(cosine, 4);
  });
});

describe('sightline audit', () => {
  it('on a segmenter: rows in pixel shares', async () => {
    const out = at('audit-seg');
    const r = await runCli([
      'audit',
      at('photos'),
      '-m',
      at('seg.onnx'),
      '--method',
      'gradient',
      '--out',
      out,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const csv = await readFile(join(out, 'results.csv'), 'utf8');
    expect(csv).toContain('6.3% of pixels: cat (also background 87.5%, dog 6.3%)');
  });

  it('on an embedding model: --reference for every image, the cosine in the rows', async () => {
    const refused = await runCli(['audit', at('pair'), '-m', at('embed.onnx'), '--out', at('audit-none')]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('An embedding model is audited against a reference');
    const out = at('audit-embed');
    const r = await runCli([
      'audit',
      at('pair'),
      '-m',
      at('embed.onnx'),
      '--reference',
      at('b.png'),
      '--method',
      'grad-cam',
      '--out',
      out,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const cosine = 4 / (Math.sqrt(6.25) * Math.sqrt(5.5));
    const csv = await readFile(join(out, 'results.csv'), 'utf8');
    expect(csv).toContain(`cosine ${cosine.toFixed(4)} to the reference`);
    const row = JSON.parse((await readFile(join(out, 'results.jsonl'), 'utf8')).trim().split('\n')[0]);
    expect(row.target.description).toMatchObject({ kind: 'similarity', reference: 'image', dimensions: 192 });
  });
});
