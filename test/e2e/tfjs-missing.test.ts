/**
 * Sightline installed without TF.js (an optional peer dependency): the built CLI, copied into a folder whose
 * node_modules links every installed package but @tensorflow, so Node's own resolution cannot reach TF.js.
 * Models that need TF.js fail with a message saying what to install; TF.js Layers models that convert to ONNX
 * still run, gradients included, because the converter never loads TF.js.
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, realpath, rm, symlink } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TFJS_PACKAGES } from '../../src/engines/tfjs/runtime.js';
import { graphModel } from '../helpers/tfjs-graph-model.js';
import { randomizeWeights, saveArtifacts, tfl, tfReady, writeTfjsFolder } from '../helpers/tfjs-models.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

let root: string;
let cli: string;

/** Runs the copied CLI, with its own model cache so the test leaves the user's alone. */
function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env, SIGHTLINE_CACHE_DIR: join(root, 'cache') };
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, ...args], { env }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
    });
  });
}

async function layersModel(withUnconvertibleLayer: boolean): Promise<string> {
  const model = tfl.sequential();
  model.add(tfl.layers.conv2d({ inputShape: [8, 8, 3], filters: 2, kernelSize: 3, activation: 'relu' }));
  if (withUnconvertibleLayer) model.add(tfl.layers.upSampling2d({ size: [2, 2] }));
  model.add(tfl.layers.globalAveragePooling2d({}));
  model.add(tfl.layers.dense({ units: 3, activation: 'softmax' }));
  randomizeWeights(model, 7);
  const dir = join(root, withUnconvertibleLayer ? 'upsampling' : 'convertible');
  await writeTfjsFolder(dir, await saveArtifacts(model));
  return dir;
}

/** One paragraph naming what to install, with no stack trace. */
function expectInstallAdvice(stderr: string, kind: string): void {
  expect(stderr).toMatch(
    new RegExp(
      `^sightline: This ${kind} runs only on TF\\.js, which is not installed \\(@tensorflow/tfjs-[a-z-]+ is missing\\)`,
    ),
  );
  expect(stderr).toContain(`\`npm install ${TFJS_PACKAGES.join(' ')}\``);
  expect(stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(stderr).not.toMatch(/\n\s+at /);
}

beforeAll(async () => {
  await tfReady();
  root = await mkdtemp(join(tmpdir(), 'sightline-no-tfjs-'));
  const dist = join(REPO, 'dist');
  // The web app, the embedded model's files and source maps are large and unused here.
  const unused = [join(dist, 'web'), join(dist, 'models', 'default')];
  await cp(dist, join(root, 'dist'), {
    recursive: true,
    filter: (src) => !unused.includes(src) && !src.endsWith('.map'),
  });
  await cp(join(REPO, 'package.json'), join(root, 'package.json'));
  const modules = await realpath(join(REPO, 'node_modules'));
  await mkdir(join(root, 'node_modules'));
  for (const name of await readdir(modules)) {
    if (name !== '@tensorflow') await symlink(join(modules, name), join(root, 'node_modules', name));
  }
  cli = join(root, 'dist', 'cli', 'main.js');
  // Guards the test itself: a node_modules above the temporary folder could still hold TF.js.
  expect(() => createRequire(cli).resolve('@tensorflow/tfjs-core')).toThrow(/Cannot find module/);
  await sharp(Buffer.alloc(8 * 8 * 3, 120), { raw: { width: 8, height: 8, channels: 3 } })
    .png()
    .toFile(join(root, 'photo.png'));
});

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

describe('without TF.js installed', () => {
  it('a TF.js Graph model fails with exit code 4 and says what to install', async () => {
    await writeTfjsFolder(join(root, 'graph'), graphModel());
    const result = await run([
      'explain',
      join(root, 'photo.png'),
      '--model',
      join(root, 'graph'),
      '--method',
      'occlusion',
    ]);
    expect(result.code, result.stderr).toBe(4);
    expectInstallAdvice(result.stderr, 'TF\\.js Graph model');
  });

  it('a TF.js Layers model with a layer that does not convert says the same', async () => {
    const model = await layersModel(true);
    const result = await run(['explain', join(root, 'photo.png'), '--model', model, '--method', 'occlusion']);
    expect(result.code, result.stderr).toBe(4);
    expectInstallAdvice(
      result.stderr,
      'TF\\.js Layers model \\(with a layer that does not convert to ONNX\\)',
    );
  });

  it('a convertible TF.js Layers model runs through ONNX: Grad-CAM works', async () => {
    const model = await layersModel(false);
    const out = join(root, 'grad-cam.png');
    const args = ['explain', join(root, 'photo.png'), '--model', model, '--method', 'grad-cam', '--out', out];
    const result = await run([...args, '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).method).toBe('grad-cam');
    const png = await sharp(await readFile(out)).metadata();
    expect(png.width).toBe(8);
  });

  it('--version prints the version from package.json', async () => {
    const { version } = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8'));
    const result = await run(['--version']);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${version}\n`);
    expect(result.stderr).toBe('');
  });
});
