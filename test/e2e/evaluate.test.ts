// `sightline evaluate` on a model with a known answer: the score is the mean of an 8 × 8 corner patch, so a
// map that ranks the patch first must delete the class at the first step, and the region metrics on the patch
// are exact.
import { execFileSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeModel } from '../../src/engines/onnx/proto.js';
import { patchModelProto, weightedModelProto } from '../helpers/analytic.js';
import { runCli } from '../helpers/cli.js';

const SIZE = 64;
const PATCH = { x0: 0, y0: 0, x1: 8, y1: 8 };
let dir: string;

/** `sightline evaluate` on `target` with one of the test's models, which take pixels / 255 as they are. */
const evaluateArgs = (target: string, model: string) => [
  'evaluate',
  target,
  '--model',
  join(dir, model),
  '--mean',
  '0',
  '--std',
  '1',
];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sightline-evaluate-'));
  await writeFile(
    join(dir, 'patch.onnx'),
    encodeModel(patchModelProto(PATCH, { dims: ['N', 3, SIZE, SIZE] })),
  );
  await mkdir(join(dir, 'photos'));
  for (const [i, level] of [200, 150].entries()) {
    const data = Buffer.alloc(SIZE * SIZE * 3, 60);
    for (let y = 0; y < 8; y++) data.fill(level, y * SIZE * 3, (y * SIZE + 8) * 3);
    await sharp(data, { raw: { width: SIZE, height: SIZE, channels: 3 } })
      .png()
      .toFile(join(dir, 'photos', `p${i}.png`));
  }
  await writeFile(join(dir, 'regions.csv'), 'file,x,y,width,height\np0.png,0,0,8,8\np1.png,0,0,8,8\n');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('sightline evaluate', () => {
  it('gives the hand-computed deletion AUC and exact region metrics for the gradient map', async () => {
    const out = join(dir, 'out');
    const result = await runCli([
      ...evaluateArgs(join(dir, 'photos'), 'patch.onnx'),
      '--methods',
      'gradient,occlusion',
      '--regions',
      join(dir, 'regions.csv'),
      '--out',
      out,
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^method\s+deletion\s+insertion\s+energy\s+pointing\s+iou/m);
    const report = JSON.parse(await readFile(join(out, 'evaluation.json'), 'utf8'));
    expect(report.images).toHaveLength(2);
    for (const [i, level] of [200, 150].entries()) {
      const image = report.images[i];
      const gradient = image.methods.find((m: { method: string }) => m.method === 'gradient');
      // Scores are logits [m, −m] with m the patch mean (pixels / 255): p = σ(2m). One step removes a row's
      // worth (64 pixels) — exactly the 64 patch pixels, which rank first — and leaves m = 0, p = ½.
      const p0 = 1 / (1 + Math.exp((-2 * level) / 255));
      const steps = 64;
      const expected = (p0 + 0.5 * steps - (p0 + 0.5) / 2) / steps;
      expect(gradient.values.deletion).toBeCloseTo(expected, 5);
      expect(gradient.curves.deletion.slice(0, 3).map((v: number) => Number(v.toFixed(6)))).toEqual([
        Number(p0.toFixed(6)),
        0.5,
        0.5,
      ]);
      // All of the gradient's attention is on the patch, its peak too; its strongest 20% (819 pixels) has the 64
      // patch pixels only (the rest have none), so IoU with the 8 × 8 region is 1.
      expect(gradient.values.energy).toBeCloseTo(1, 6);
      expect(gradient.values.pointing).toBe(1);
      expect(gradient.values.iou).toBeCloseTo(1, 6);
      expect(image.agreement).toHaveLength(1);
    }
    const html = await readFile(join(out, 'evaluation.html'), 'utf8');
    expect(html).toContain('<polyline');
    expect(html).not.toMatch(/https?:\/\//);
  }, 120_000);

  it('skips an image whose region does not fit, saying why, and measures the rest', async () => {
    const regions = join(dir, 'bad-regions.csv');
    await writeFile(regions, 'file,x,y,width,height\np0.png,0,0,8,8\np1.png,900,0,8,8\n');
    const out = join(dir, 'out-bad');
    const result = await runCli([
      ...evaluateArgs(join(dir, 'photos'), 'patch.onnx'),
      '--methods',
      'gradient',
      '--regions',
      regions,
      '--out',
      out,
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/\[2\/2\] p1\.png: skipped: .*outside the 64×64 image/);
    const report = JSON.parse(await readFile(join(out, 'evaluation.json'), 'utf8'));
    expect(report.images.map((i: { file: string }) => i.file)).toEqual(['p0.png']);
    expect(report.skipped).toEqual([
      { file: 'p1.png', reason: expect.stringMatching(/outside the 64×64 image/) },
    ]);
    expect(await readFile(join(out, 'evaluation.html'), 'utf8')).toMatch(/Skipped 1: p1\.png \(.*outside/);
  }, 120_000);

  it('lists a FIFO with an image name as skipped, unread, and measures the photos', async () => {
    const photos = join(dir, 'photos-and-fifo');
    await mkdir(photos);
    await copyFile(join(dir, 'photos', 'p0.png'), join(photos, 'p0.png'));
    execFileSync('mkfifo', [join(photos, 'a.png')]);
    const out = join(dir, 'out-fifo');
    const result = await runCli([
      ...evaluateArgs(photos, 'patch.onnx'),
      '--methods',
      'gradient',
      '--out',
      out,
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/a\.png: skipped: 'a\.png' is a FIFO \(named pipe\), not a regular file/);
    const report = JSON.parse(await readFile(join(out, 'evaluation.json'), 'utf8'));
    expect(report.images.map((i: { file: string }) => i.file)).toEqual(['p0.png']);
    expect(report.skipped).toEqual([
      { file: 'a.png', reason: "'a.png' is a FIFO (named pipe), not a regular file; it was not read" },
    ]);
  }, 120_000);

  it('runs the sanity checks: label randomization by hand, weight randomization decorrelates', async () => {
    // scores = [s, −s] with s = mean(w ⊙ x) and w the patch's indicator: the model's one weight tensor.
    const w = new Float32Array(3 * SIZE * SIZE);
    for (let c = 0; c < 3; c++)
      for (let y = 0; y < 8; y++) w.fill(1, c * SIZE * SIZE + y * SIZE, c * SIZE * SIZE + y * SIZE + 8);
    await writeFile(join(dir, 'linear.onnx'), encodeModel(weightedModelProto(w, [1, 3, SIZE, SIZE])));
    const out = join(dir, 'out-sanity');
    const result = await runCli([
      ...evaluateArgs(join(dir, 'photos', 'p0.png'), 'linear.onnx'),
      '--methods',
      'gradient,gradient-x-input',
      '--metrics',
      'deletion,sanity',
      '--out',
      out,
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^method\s+deletion\s+randomization\s+labels/m);
    const [image] = JSON.parse(await readFile(join(out, 'evaluation.json'), 'utf8')).images;
    const values = (id: string) =>
      image.methods.find((r: { method: string }) => r.method === id).values as Record<string, number>;
    for (const id of ['gradient', 'gradient-x-input']) {
      // The other class's score is −s: its gradient is −w, so |map| is the same map and ρ is exactly 1 —
      // a two-class mirror model is the case where a map rightly does not depend on the class.
      expect(values(id).labels).toBe(1);
      expect(image.randomization[id]).toEqual([
        expect.objectContaining({ layer: 'weighted', weights: 1, spearmanAbs: values(id).randomization }),
      ]);
    }
    // Noise in place of w: the gradient map is the noise, which no longer follows the patch (ρ of independent
    // noise against the patch's indicator has a standard deviation of about 1/64). Gradient × input keeps
    // following the bright patch through x itself: Adebayo et al.'s point that it partly shows the input.
    expect(Math.abs(values('gradient').randomization)).toBeLessThan(0.05);
    expect(values('gradient-x-input').randomization).toBeGreaterThan(0.1);
    const html = await readFile(join(out, 'evaluation.html'), 'utf8');
    expect(html).toContain('<th scope="col">randomization</th>');
  }, 120_000);

  it('resumes where an earlier run stopped, and refuses to mix results of other settings', async () => {
    const out = join(dir, 'out-resume');
    const args = [
      ...evaluateArgs(join(dir, 'photos'), 'patch.onnx'),
      '--methods',
      'gradient',
      '--metrics',
      'deletion',
      '--header',
      'X-Api-Key: hush-123',
      '--out',
      out,
    ];
    const first = await runCli(args);
    expect(first.code, first.stderr).toBe(0);
    const path = join(out, 'evaluation.json');
    const full = JSON.parse(await readFile(path, 'utf8'));
    expect(full.images.map((i: { file: string }) => i.file)).toEqual(['p0.png', 'p1.png']);
    expect(await readFile(path, 'utf8')).not.toContain('hush-123');
    // As if the run had been stopped after the first image: only the second is measured again.
    await writeFile(path, JSON.stringify({ ...full, images: full.images.slice(0, 1) }));
    const resumed = await runCli(args);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain('(resuming: 1 already done, 1 to go)');
    expect(resumed.stderr).not.toMatch(/p0\.png: gradient/);
    expect(resumed.stderr).toMatch(/\[2\/2\] p1\.png: gradient/);
    // The same numbers as the uninterrupted run (the timings aside).
    const untimed = (images: { methods: { seconds?: number }[] }[]) =>
      images.map((i) => ({ ...i, methods: i.methods.map(({ seconds: _, ...m }) => m) }));
    const after = JSON.parse(await readFile(path, 'utf8')).images;
    expect(untimed(after)).toEqual(untimed(full.images));
    expect(after[0]).toEqual(full.images[0]);
    // Other settings in the same folder: refused, nothing overwritten; --restart starts over.
    const other = await runCli([...args, '--curve-steps', '8']);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/holds an evaluation with other settings/);
    expect(JSON.parse(await readFile(path, 'utf8')).images).toEqual(after);
    // The same settings on part of the folder: only the images asked for are kept, none measured again.
    const one = await runCli(
      args.map((a) => (a === join(dir, 'photos') ? join(dir, 'photos', 'p1.png') : a)),
    );
    expect(one.code, one.stderr).toBe(0);
    expect(one.stderr).toContain('(resuming: 1 already done, 0 to go)');
    expect(JSON.parse(await readFile(path, 'utf8')).images).toEqual([after[1]]);
    const restarted = await runCli([...args, '--curve-steps', '8', '--restart']);
    expect(restarted.code, restarted.stderr).toBe(0);
    expect(restarted.stderr).not.toContain('resuming');
    expect(JSON.parse(await readFile(path, 'utf8')).settings.curveSteps).toBe(8);
  }, 120_000);

  it('measures again an image whose earlier entry fails its check, and never overwrites results it cannot read', async () => {
    const out = join(dir, 'out-tampered');
    const args = [
      ...evaluateArgs(join(dir, 'photos'), 'patch.onnx'),
      '--methods',
      'gradient',
      '--metrics',
      'deletion',
      '--out',
      out,
    ];
    const first = await runCli(args);
    expect(first.code, first.stderr).toBe(0);
    const path = join(out, 'evaluation.json');
    const full = JSON.parse(await readFile(path, 'utf8'));
    // p0's entry edited by hand: a deletion AUC that is text, which the table would otherwise add up.
    const tampered = structuredClone(full);
    tampered.images[0].methods[0].values.deletion = '0.1; rm -rf';
    await writeFile(path, JSON.stringify(tampered));
    const resumed = await runCli(args);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain(
      "image 1 is measured again: 'methods[0].values.deletion' is not a finite number.",
    );
    expect(resumed.stderr).toContain('(resuming: 1 already done, 1 to go)');
    expect(resumed.stderr).toMatch(/p0\.png: gradient/);
    const after = JSON.parse(await readFile(path, 'utf8'));
    expect(after.images.map((i: { file: string }) => i.file).sort()).toEqual(['p0.png', 'p1.png']);
    const p0 = after.images.find((i: { file: string }) => i.file === 'p0.png');
    expect(p0.methods[0].values.deletion).toBe(full.images[0].methods[0].values.deletion);
    // 'images' that is not a list, and a folder where the file should be: refused, the folder left as it was.
    await writeFile(path, JSON.stringify({ ...full, images: { p0: 1 } }));
    const notList = await runCli(args);
    expect(notList.code).toBe(3);
    expect(notList.stderr).toContain(
      "its 'images' is not a list; pass --restart to start over, or another --out.",
    );
    await rm(path);
    await mkdir(path);
    const folder = await runCli(args);
    expect(folder.code).toBe(3);
    expect(folder.stderr).toContain(`Cannot read the earlier results '${path}': it is a folder`);
  }, 120_000);

  it('refuses an unknown metric and an unknown method with clear messages', async () => {
    const metric = await runCli(['evaluate', join(dir, 'photos'), '--metrics', 'deletion,wow']);
    expect(metric.code).not.toBe(0);
    expect(metric.stderr).toContain("unknown metric 'wow'");
    const method = await runCli(['evaluate', join(dir, 'photos'), '--methods', 'gradient,magic']);
    expect(method.code).not.toBe(0);
    expect(method.stderr).toContain('magic');
  });
});
