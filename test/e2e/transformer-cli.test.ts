import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli, SHARED_IMAGES } from '../helpers/cli.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));
const VIT = join(FIXTURES, 'transformers', 'vit_tiny.onnx');
const SWIN = join(FIXTURES, 'transformers', 'swin_tiny.onnx');
const VIT_LAST = join(FIXTURES, 'transformers', 'vit_tiny_class_last.onnx');
const CNN = join(FIXTURES, 'golden', 'net_tiny_cnn.onnx');
const VIT_DEFAULT = '/encoder/layers/encoder_layer_1/ln_1/LayerNormalization_output_0';

/** The built CLI on the torch-exported tiny ViT and Swin (scripts/golden/transformers.py) and a small CNN. */
describe('sightline explain --list-layers and rollout', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sightline-vit-'));
  });

  it('lists a ViT’s token layers with dims and grid, the last block’s ln_1 marked, without a photo', async () => {
    const r = await runCli(['explain', '--list-layers', '--model', VIT]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^33 layers the CAM methods can read/);
    const marked = r.stdout.split('\n').filter((l) => l.startsWith('*'));
    expect(marked).toEqual([`*  tokens (1 extra)  [1, 17, 32]    4×4   ${VIT_DEFAULT}`]);
    expect(r.stdout).toContain('   map               [1, 32, 4, 4]  4×4   /conv_proj/Conv_output_0\n');
  });

  it('says when the extra token comes after the patch tokens', async () => {
    const r = await runCli(['explain', '--list-layers', '--model', VIT_LAST]);
    expect(r.code).toBe(0);
    const marked = r.stdout.split('\n').filter((l) => l.startsWith('*'));
    expect(marked).toEqual([`*  tokens (1 extra, last)  [1, 17, 32]    4×4   ${VIT_DEFAULT}`]);
  });

  it('--json: kind, grid and the default for Swin (channels-last) and a CNN (its last map)', async () => {
    const swin = JSON.parse((await runCli(['explain', '--list-layers', '--json', '-m', SWIN])).stdout);
    expect(swin.defaultLayer).toBe('/norm/LayerNormalization_output_0');
    expect(swin.layers.find((l: { default: boolean }) => l.default)).toMatchObject({
      kind: 'channels-last',
      dims: [1, 4, 4, 32],
      grid: [4, 4],
    });
    const cnn = JSON.parse((await runCli(['explain', '--list-layers', '--json', '-m', CNN])).stdout);
    expect(cnn.attention).toBe(false);
    expect(cnn.layers.every((l: { kind: string }) => l.kind === 'map')).toBe(true);
    expect(cnn.defaultLayer).toBe(cnn.layers[cnn.layers.length - 1].name);
  });

  it('explains a photo with attention rollout and grad-rollout on the ViT', async () => {
    for (const method of ['attention-rollout', 'grad-rollout']) {
      const out = join(dir, `${method}.png`);
      const r = await runCli([
        'explain',
        join(SHARED_IMAGES, 'dog.jpg'),
        '-m',
        VIT,
        '--method',
        method,
        '--out',
        out,
        '--json',
      ]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const json = JSON.parse(r.stdout);
      expect(json.method).toBe(method);
      expect(json.details).toMatchObject({ layerWidth: 4, layerHeight: 4, blocks: 2, tokens: 17 });
    }
  });

  it('refuses rollout on Swin with the reason (exit 4) and Grad-CAM runs there', async () => {
    const photo = join(SHARED_IMAGES, 'dog.jpg');
    const refused = await runCli([
      'explain',
      photo,
      '-m',
      SWIN,
      '--method',
      'attention-rollout',
      '--out',
      join(dir, 'no.png'),
    ]);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toMatch(/Swin attends in local windows without a class token/);
    const cam = await runCli([
      'explain',
      photo,
      '-m',
      SWIN,
      '--method',
      'grad-cam',
      '--out',
      join(dir, 'swin.png'),
      '--json',
    ]);
    expect(cam.code).toBe(0);
    expect(JSON.parse(cam.stdout).details).toMatchObject({
      layerWidth: 4,
      layerHeight: 4,
      layerChannels: 32,
    });
  });
});
