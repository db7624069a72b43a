import { describe, expect, it } from 'vitest';
import {
  folderKind,
  MAX_CONFIG_CHARS,
  MAX_PREPROCESSOR_CHARS,
  parseHfFolder,
  parseTimmFolder,
} from '../../src/models/hf-config.js';

const config = (extra: object = {}) =>
  JSON.stringify({ model_type: 'vit', id2label: { '0': 'cat', '1': 'dog', '2': 'bird' }, ...extra });
/** As ViTImageProcessor.save_pretrained writes it. */
const VIT = {
  do_normalize: true,
  do_rescale: true,
  do_resize: true,
  image_mean: [0.5, 0.5, 0.5],
  image_processor_type: 'ViTImageProcessor',
  image_std: [0.5, 0.5, 0.5],
  resample: 2,
  rescale_factor: 0.00392156862745098,
  size: { height: 224, width: 224 },
};
const hf = (pre: object = {}, cfg: object = {}) =>
  parseHfFolder(config(cfg), JSON.stringify({ ...VIT, ...pre }));
const refusal = (f: () => unknown) => {
  try {
    f();
  } catch (error) {
    expect((error as { code: string }).code).toBe('MODEL_LOAD');
    return (error as Error).message;
  }
  throw new Error('not refused');
};

describe('Hugging Face config.json and preprocessor_config.json', () => {
  it('reads a ViT folder: labels in index order, a squash to size, bilinear, (p/255 − 0.5)/0.5', () => {
    const { kind, hints } = parseHfFolder(
      JSON.stringify({ id2label: { '2': 'bird', '0': 'cat', '1': 'dog' } }),
      JSON.stringify(VIT),
    );
    expect(kind).toBe('huggingface');
    expect(hints).toEqual({
      width: 224,
      height: 224,
      resize: 'squash',
      mean: [0.5, 0.5, 0.5],
      std: [0.5, 0.5, 0.5],
      resample: 'bilinear',
      layout: 'NCHW',
      labels: ['cat', 'dog', 'bird'],
    });
  });

  it('maps problem_type to the task, and leaves it to the graph when absent', () => {
    expect(hf({}, { problem_type: 'single_label_classification' }).hints.task).toBe('classify');
    expect(hf({}, { problem_type: 'multi_label_classification' }).hints.task).toBe('multilabel');
    expect(hf({}, { problem_type: 'regression' }).hints.task).toBe('score');
    expect(hf({}, { problem_type: null }).hints.task).toBeUndefined();
    expect(refusal(() => hf({}, { problem_type: 'ranking' }))).toBe(
      `The model folder's config.json says problem_type is "ranking"; expected one of single_label_classification, multi_label_classification, regression.`,
    );
  });

  it('shortest_edge then crop_size: resize first, crop from floor offsets (transformers center_crop)', () => {
    const { hints, preprocessing } = hf({
      image_processor_type: 'BitImageProcessor',
      size: { shortest_edge: 256 },
      do_center_crop: true,
      crop_size: { height: 224, width: 224 },
      resample: 3,
    });
    expect(hints.resizeFirst).toEqual({ kind: 'shortest-edge', size: 256, offset: 'floor' });
    expect([hints.width, hints.height, hints.resize, hints.cropFraction, hints.resample]).toEqual([
      224,
      224,
      'center-crop',
      224 / 256,
      'bicubic',
    ]);
    expect(preprocessing).toBe('shorter side to 256 px, then the central 224 × 224 (bicubic)');
  });

  it('a bare-number size is read as the processor class reads it, or refused', () => {
    const clip = hf({
      image_processor_type: 'CLIPImageProcessor',
      size: 224,
      do_center_crop: true,
      crop_size: 224,
    });
    expect(clip.hints.resizeFirst).toEqual({ kind: 'shortest-edge', size: 224, offset: 'floor' });
    expect(hf({ size: 384 }).hints).toMatchObject({ width: 384, height: 384, resize: 'squash' });
    expect(refusal(() => hf({ image_processor_type: 'FancyImageProcessor', size: 224 }))).toContain(
      'transformers reads a bare number as a square for some processors and as the shorter side for others',
    );
  });

  it('size then a smaller crop_size: a fixed resize, then the centre', () => {
    const { hints } = hf({
      size: { height: 256, width: 256 },
      do_center_crop: true,
      crop_size: { height: 224, width: 224 },
    });
    expect(hints.resizeFirst).toEqual({ kind: 'fixed', width: 256, height: 256, offset: 'floor' });
  });

  it("ConvNext's crop_pct: below 384 the shorter side becomes int(edge / crop_pct), from 384 a squash", () => {
    const base = { image_processor_type: 'ConvNextImageProcessor', crop_pct: 0.875 };
    expect(hf({ ...base, size: { shortest_edge: 224 } }).hints).toMatchObject({
      width: 224,
      resizeFirst: { kind: 'shortest-edge', size: 256, offset: 'floor' },
    });
    expect(hf({ ...base, size: { shortest_edge: 384 } }).hints).toMatchObject({
      width: 384,
      resize: 'squash',
    });
    expect(refusal(() => hf({ crop_pct: 0.9 }))).toContain('only ConvNext processors define it');
  });

  it('puts rescale_factor, image_mean and image_std into (p/255 − mean′)/std′ exactly', () => {
    // do_rescale false: (p − 127.5) / 127.5 = (p/255 − 0.5) / 0.5.
    const raw = hf({
      do_rescale: false,
      image_mean: [127.5, 127.5, 127.5],
      image_std: [127.5, 127.5, 127.5],
    }).hints;
    expect([raw.mean, raw.std]).toEqual([
      [0.5, 0.5, 0.5],
      [0.5, 0.5, 0.5],
    ]);
    // p / 127.5 − 1 = (p/255 − 0.5) / 0.5.
    const half = hf({ rescale_factor: 1 / 127.5, image_mean: [1, 1, 1], image_std: [1, 1, 1] }).hints;
    expect(half.mean?.map((m) => Math.abs(m - 0.5) < 1e-15)).toEqual([true, true, true]);
    expect(half.std?.map((s) => Math.abs(s - 0.5) < 1e-15)).toEqual([true, true, true]);
    // do_normalize false: p/255 as it is.
    expect(hf({ do_normalize: false, image_mean: null, image_std: null }).hints).toMatchObject({
      mean: [0, 0, 0],
      std: [1, 1, 1],
    });
    expect(hf({ do_flip_channel_order: true }).hints.channelOrder).toBe('BGR');
  });

  it('refuses what the pipeline cannot do exactly, in words', () => {
    expect(refusal(() => hf({ resample: 1 }))).toBe(
      "The model folder's preprocessor_config.json says resample is 1 (LANCZOS); expected 0 (nearest), 2 (bilinear) or 3 (bicubic); other filters are not implemented.",
    );
    expect(refusal(() => hf({ resample: 9 }))).toContain('says resample is 9;');
    expect(refusal(() => hf({ size: { longest_edge: 1333 } }))).toContain(
      'a longest_edge resize gives inputs of varying size',
    );
    expect(refusal(() => hf({ size: { shortest_edge: 224 } }))).toContain(
      'says do_center_crop is false; expected true with a crop_size',
    );
    expect(
      refusal(() =>
        hf({ size: { shortest_edge: 200 }, do_center_crop: true, crop_size: { height: 224, width: 224 } }),
      ),
    ).toContain('transformers pads a larger crop with black, which is not implemented');
    expect(refusal(() => hf({ do_resize: false }))).toContain('says do_resize is false; expected true');
    expect(refusal(() => hf({ do_pad: true }))).toContain('padding');
    expect(refusal(() => hf({ resample: undefined }))).toContain(
      'says resample is nothing; expected a PIL filter code',
    );
  });

  it('checks every field it reads, naming the file, the field, what it says and what was expected', () => {
    expect(refusal(() => hf({ image_mean: '0.5' }))).toBe(
      `The model folder's preprocessor_config.json says image_mean is "0.5"; expected three numbers (or one).`,
    );
    expect(refusal(() => hf({ image_std: [0.5, 0, 0.5] }))).toContain('expected three positive numbers');
    expect(refusal(() => hf({ size: { height: 224, width: 1e9 } }))).toBe(
      "The model folder's preprocessor_config.json says size.width is 1000000000; expected a whole number of pixels from 1 to 4096.",
    );
    expect(refusal(() => hf({ size: { height: 224.5, width: 224 } }))).toContain('size.height is 224.5');
    expect(refusal(() => hf({ rescale_factor: -1 }))).toContain(
      'rescale_factor is -1; expected a positive number',
    );
    expect(refusal(() => hf({ do_rescale: 'yes' }))).toContain('do_rescale is "yes"; expected true or false');
  });

  it('refuses an id2label with holes, foreign keys or names that are not strings', () => {
    expect(refusal(() => hf({}, { id2label: { '0': 'cat', '2': 'bird' } }))).toBe(
      `The model folder's config.json says id2label is an object of 2 classes with no entry for "1" but one for "2"; expected one name for each index from 0 up, with no gaps.`,
    );
    expect(refusal(() => hf({}, { id2label: { '0': 'cat', x: 'dog' } }))).toContain('the key "x"');
    expect(refusal(() => hf({}, { id2label: { '0': 'cat', '01': 'dog' } }))).toContain('the key "01"');
    expect(refusal(() => hf({}, { id2label: { '0': 'cat', '1': 7 } }))).toContain(
      'id2label["1"] is 7; expected a class name (a string)',
    );
    expect(refusal(() => hf({}, { id2label: ['cat', 'dog'] }))).toContain(
      'expected a JSON object from class index to name',
    );
  });

  it('refuses text that is not JSON, not an object, or too long, before parsing it', () => {
    expect(refusal(() => parseHfFolder('{"id2label": {', JSON.stringify(VIT)))).toMatch(
      /^The model folder's config\.json is not valid JSON \(.+\); expected a JSON object\.$/,
    );
    expect(refusal(() => parseHfFolder('[1, 2]', JSON.stringify(VIT)))).toBe(
      "The model folder's config.json holds a list; expected a JSON object.",
    );
    expect(refusal(() => parseHfFolder(config(), 'null'))).toContain('preprocessor_config.json holds');
    const huge = `{"a": "${'x'.repeat(MAX_PREPROCESSOR_CHARS)}"}`;
    expect(refusal(() => parseHfFolder(config(), huge))).toContain(
      `preprocessor_config.json is ${huge.length} characters long, over the limit of ${MAX_PREPROCESSOR_CHARS}`,
    );
    const t0 = Date.now();
    expect(refusal(() => parseTimmFolder(' '.repeat(MAX_CONFIG_CHARS + 1)))).toContain('over the limit');
    // A deeply nested array parses without exhausting the stack and is then refused by type.
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    expect(() => parseHfFolder(config(), deep)).toThrow();
    expect(Date.now() - t0).toBeLessThan(10_000);
  });
});

describe("timm's config.json", () => {
  const TIMM = {
    architecture: 'resnet18',
    num_classes: 2,
    pretrained_cfg: {
      input_size: [3, 224, 224],
      interpolation: 'bicubic',
      crop_pct: 0.95,
      crop_mode: 'center',
      mean: [0.485, 0.456, 0.406],
      std: [0.229, 0.224, 0.225],
      num_classes: 2,
    },
    label_names: ['cat', 'dog'],
  };
  const timm = (cfg: object = {}, top: object = {}) =>
    parseTimmFolder(JSON.stringify({ ...TIMM, ...top, pretrained_cfg: { ...TIMM.pretrained_cfg, ...cfg } }));

  it('reads pretrained_cfg: shorter side to floor(224 / 0.95) = 235, the central 224, rounded offsets', () => {
    const { kind, hints } = timm();
    expect(kind).toBe('timm');
    expect(hints).toMatchObject({
      width: 224,
      height: 224,
      resample: 'bicubic',
      resizeFirst: { kind: 'shortest-edge', size: 235, offset: 'round' },
      labels: ['cat', 'dog'],
      layout: 'NCHW',
    });
  });

  it("takes older files' top-level fields and resolve_data_config's defaults", () => {
    const { hints } = parseTimmFolder(JSON.stringify({ architecture: 'x', input_size: [3, 224, 224] }));
    expect(hints).toMatchObject({
      resample: 'bicubic',
      resizeFirst: { kind: 'shortest-edge', size: 256, offset: 'round' },
      mean: [0.485, 0.456, 0.406],
      std: [0.229, 0.224, 0.225],
    });
    expect(hints.labels).toBeUndefined();
  });

  it("crop_mode 'squash' resizes both sides to floor(size / crop_pct); others are refused", () => {
    expect(timm({ crop_mode: 'squash', input_size: [3, 224, 192] }).hints.resizeFirst).toEqual({
      kind: 'fixed',
      width: 202,
      height: 235,
      offset: 'round',
    });
    expect(refusal(() => timm({ crop_mode: 'border' }))).toContain("'border' is not implemented");
    expect(refusal(() => timm({ input_size: [3, 224, 192] }))).toContain('ResizeKeepRatio');
    expect(refusal(() => timm({ interpolation: 'lanczos' }))).toBe(
      `The model folder's config.json says pretrained_cfg.interpolation is "lanczos"; expected one of bilinear, bicubic, nearest; other filters are not implemented.`,
    );
    expect(refusal(() => timm({ input_size: [1, 224, 224] }))).toContain(
      'pretrained_cfg.input_size is [1, 224, 224]',
    );
    expect(refusal(() => timm({ crop_pct: 1.5 }))).toContain(
      'crop_pct is 1.5; expected a number above 0 and at most 1',
    );
    expect(refusal(() => timm({}, { label_names: ['cat'] }))).toContain('expected 2 names, one per class');
    expect(refusal(() => parseTimmFolder(JSON.stringify({ ...TIMM, pretrained_cfg: 7 })))).toContain(
      'pretrained_cfg is 7; expected a JSON object',
    );
  });

  it("tells timm's config.json from transformers'", () => {
    expect(folderKind(JSON.stringify(TIMM))).toBe('timm');
    expect(folderKind(JSON.stringify({ architecture: 'resnet18', input_size: [3, 224, 224] }))).toBe('timm');
    expect(folderKind(config())).toBe('huggingface');
  });
});
