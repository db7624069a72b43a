// `explain` on a detector takes its own path in the CLI (one overlay per detection), which read neither
// --region nor --reference: both were dropped without a word. They are refused, as for any task they do not
// belong to (usage, exit 2).
import { copyFile, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/detectors/', import.meta.url));
let dir: string;
const at = (name: string) => join(dir, name);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sightline-detect-flags-'));
  await copyFile(`${FIXTURES}yolov8.onnx`, at('det.onnx'));
  await writeFile(at('det.json'), JSON.stringify({ labels: ['red', 'green', 'blue'] }));
  await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 90, g: 90, b: 90 } } })
    .png()
    .toFile(at('photo.png'));
});

describe('explain --region / --reference on a detector', () => {
  it.each([
    [['--region', '0,0,10,10'], /A region \(--region\) .* this model's task is 'detect'/],
    [['--reference', 'other.npy'], /A reference \(--reference\) .* this model's task is 'detect'/],
  ])('%s is refused with exit code 2', async (flags, message) => {
    const r = await runCli(['explain', at('photo.png'), '--model', at('det.onnx'), ...flags]);
    expect(r.stderr).toMatch(message);
    expect(r.code).toBe(2);
  });
});
