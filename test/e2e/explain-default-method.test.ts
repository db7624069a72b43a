// Needs dist/ (npx tsc -p tsconfig.build.json): explain without --method picks the method from the model.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli as run, SHARED_IMAGES } from '../helpers/cli.js';
import { type ModelServer, startModelServer } from '../helpers/http-model-server.js';

const PHOTO = join(SHARED_IMAGES, 'dog.jpg');
const TINY_CNN = fileURLToPath(new URL('../fixtures/golden/net_tiny_cnn.onnx', import.meta.url));
let dir: string;
let server: ModelServer;
/** Gradient graphs go to this test's own cache. */
const runCli = (args: string[]) => run(args, { env: { SIGHTLINE_CACHE_DIR: join(dir, 'cache') } });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sightline-default-method-'));
  server = await startModelServer();
});
afterAll(() => server.close());

describe('sightline explain without --method', () => {
  it('runs Grad-CAM on a model with gradients and says how to ask for RISE', async () => {
    const out = join(dir, 'cnn.png');
    const text = await runCli(['explain', PHOTO, '--model', TINY_CNN, '--out', out]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(`Grad-CAM map for '`);
    expect(text.stdout).toContain(
      'Grad-CAM is the default for models with gradients; --method rise for RISE (black-box, slower), --list-methods for all.',
    );
    const json = await runCli(['explain', PHOTO, '--model', TINY_CNN, '--out', out, '--json']);
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout).method).toBe('grad-cam');
  }, 120_000);

  it('runs RISE on a predict-only HTTP model, taking RISE’s own flags', async () => {
    const args = ['explain', PHOTO, '--model', server.url, '--input-size', '32', '--masks', '40'];
    const text = await runCli([...args, '--out', join(dir, 'http.png')]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(`RISE map for '`);
    expect(text.stdout).toContain(
      'RISE is the default for models without gradients or feature maps; --list-methods for the others.',
    );
    const before = server.posts().length;
    const json = await runCli([...args, '--out', join(dir, 'http2.png'), '--json']);
    expect(json.code, json.stderr).toBe(0);
    const parsed = JSON.parse(json.stdout);
    expect(parsed.method).toBe('rise');
    expect(parsed.options.masks).toBe(40);
    // 40 masked copies and the plain photo went to the endpoint; nothing asked for gradients.
    const inputs = server
      .posts()
      .slice(before)
      .reduce((s, r) => s + r.inputs, 0);
    expect(inputs).toBeGreaterThanOrEqual(41);
  }, 120_000);

  it('runs RISE when asked, on a model whose default is Grad-CAM, without the note', async () => {
    const result = await runCli([
      'explain',
      PHOTO,
      '--model',
      TINY_CNN,
      '--method',
      'rise',
      '--masks',
      '40',
      '--out',
      join(dir, 'rise.png'),
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`RISE map for '`);
    expect(result.stdout).not.toContain('is the default');
  }, 120_000);
});
