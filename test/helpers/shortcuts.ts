// A dataset for shortcut tests (audit --shortcuts) and two analytic models that read it: the watermark model
// of audit.test.ts (its score is the mean of the top-left 8 × 8 corner), which follows the corner, and a model
// that reads only the object's colour. Every photo's label shows in both its corner and its object, so both
// models get the photos right; only the variants tell them apart.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import {
  attr,
  buildModel,
  encodeModel,
  floatTensor,
  int64Tensor,
  valueInfo,
} from '../../src/engines/onnx/proto.js';
import { patchModelProto } from './analytic.js';
import { writeCocoBoxes } from './watermark.js';

export const SIZE = 64;
export const CORNER = { x0: 0, y0: 0, x1: 8, y1: 8 };
export const OBJECT = { x: 24, y: 24, width: 16, height: 16 };
export const BACKGROUND = 90;

/** Each class's corner grey level (plus the photo's number) and object colour. */
export const CLASSES = {
  watermarked: { corner: 200, object: [220, 30, 30] },
  clean: { corner: 20, object: [30, 220, 30] },
} as const;
export type ShortcutClass = keyof typeof CLASSES;

/** The 'nothing' logit's constant: above a grey or black patch's red and green, below the object's own colour. */
export const NOTHING_BIAS = 0.4;

export interface ShortcutDataset {
  /** Labelled by sub-folder: watermarked/…, clean/…. */
  readonly folder: string;
  readonly regions: string;
  /** File (relative to the folder) → label, and each file's corner grey level. */
  readonly labels: ReadonlyMap<string, ShortcutClass>;
  readonly corners: ReadonlyMap<string, number>;
  /** The watermark model: logits [m, −m], m the corner's mean; read with mean 0.5 so a dark corner says 'clean'. */
  readonly watermarkArgs: string[];
  /** The object model: logits [mean red, mean green, mean blue + NOTHING_BIAS] over the object's box. */
  readonly objectArgs: string[];
}

/** `counts` photos per class under `dir`, a COCO file of their object boxes, both models and their class names. */
export async function shortcutDataset(
  dir: string,
  counts: Readonly<Record<ShortcutClass, number>>,
): Promise<ShortcutDataset> {
  const folder = join(dir, 'photos');
  const labels = new Map<string, ShortcutClass>();
  const corners = new Map<string, number>();
  for (const label of Object.keys(CLASSES) as ShortcutClass[]) {
    await mkdir(join(folder, label), { recursive: true });
    for (let i = 0; i < counts[label]; i++) {
      const file = `${label}/img${i}.png`;
      const corner = CLASSES[label].corner + i;
      await photo(join(folder, file), corner, CLASSES[label].object);
      labels.set(file, label);
      corners.set(file, corner);
    }
  }
  const files = [...labels.keys()];
  const regions = await writeCocoBoxes(join(dir, 'regions.json'), files, OBJECT);
  const watermark = join(dir, 'watermark.onnx');
  await writeFile(watermark, encodeModel(patchModelProto(CORNER, { dims: ['N', 3, SIZE, SIZE] })));
  const watermarkNames = join(dir, 'watermark-classes.txt');
  await writeFile(watermarkNames, 'watermarked\nclean\n');
  const object = join(dir, 'object.onnx');
  await writeFile(object, encodeModel(objectColourProto()));
  const objectNames = join(dir, 'object-classes.txt');
  await writeFile(objectNames, 'watermarked\nclean\nnothing\n');
  return {
    folder,
    regions,
    labels,
    corners,
    watermarkArgs: ['--model', watermark, '--mean', '0.5', '--std', '1', '--class-names', watermarkNames],
    objectArgs: ['--model', object, '--mean', '0', '--std', '1', '--class-names', objectNames],
  };
}

/** `sightline audit` arguments of a shortcut test on `data` with one of its models, into `out`. */
export function shortcutAuditArgs(
  data: ShortcutDataset,
  modelArgs: readonly string[],
  out: string,
  extra: readonly string[] = [],
): string[] {
  return [
    'audit',
    data.folder,
    ...modelArgs,
    '--method',
    'gradient',
    '--labels',
    'folders',
    '--regions',
    data.regions,
    '--shortcuts',
    '--out',
    out,
    ...extra,
  ];
}

/** Grey background, the corner patch at `corner` grey, the object box in `object`'s colour. */
async function photo(path: string, corner: number, object: readonly number[]): Promise<void> {
  const data = Buffer.alloc(SIZE * SIZE * 3, BACKGROUND);
  for (let y = 0; y < SIZE; y++)
    for (let x = 0; x < SIZE; x++) {
      const p = (y * SIZE + x) * 3;
      if (x >= OBJECT.x && x < OBJECT.x + OBJECT.width && y >= OBJECT.y && y < OBJECT.y + OBJECT.height)
        for (let c = 0; c < 3; c++) data[p + c] = object[c];
      if (x < CORNER.x1 && y < CORNER.y1) data.fill(corner, p, p + 3);
    }
  await sharp(data, { raw: { width: SIZE, height: SIZE, channels: 3 } })
    .png()
    .toFile(path);
}

/** Scores [N, 3]: the object box's mean red, green, and blue + NOTHING_BIAS (x = pixel / 255). */
function objectColourProto() {
  return buildModel({
    inputs: [valueInfo('x', ['N', 3, SIZE, SIZE])],
    outputs: [valueInfo('scores', ['N', 3])],
    initializers: [
      int64Tensor('starts', [2], [OBJECT.y, OBJECT.x]),
      int64Tensor('ends', [2], [OBJECT.y + OBJECT.height, OBJECT.x + OBJECT.width]),
      int64Tensor('axes', [2], [2, 3]),
      floatTensor('bias', [3], Float32Array.of(0, 0, NOTHING_BIAS)),
    ],
    nodes: [
      { opType: 'Slice', input: ['x', 'starts', 'ends', 'axes'], output: ['crop'] },
      {
        opType: 'ReduceMean',
        input: ['crop'],
        output: ['m'],
        attribute: [attr('axes', [2, 3]), attr('keepdims', 0)],
      },
      { opType: 'Add', input: ['m', 'bias'], output: ['scores'] },
    ],
  });
}
