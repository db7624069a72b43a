// A crop_pct that the parser takes (above 0, at most 1) can still ask for a first resize larger than any
// input Sightline feeds (size / crop_pct over MAX_INPUT_SIDE). It must be refused as the folder's config, naming
// the field, at load (MODEL_LOAD, exit 4) — not later as a usage error about an 'Argument resizeFirst' that
// nobody passed.
import { describe, expect, it } from 'vitest';
import { MAX_INPUT_SIDE } from '../../src/core/model.js';
import { parseHfFolder, parseTimmFolder } from '../../src/models/hf-config.js';

const refusal = (f: () => unknown) => {
  try {
    f();
  } catch (error) {
    expect((error as { code: string }).code).toBe('MODEL_LOAD');
    return (error as Error).message;
  }
  throw new Error('not refused');
};

const timm = (cropPct: number, mode = 'center') =>
  parseTimmFolder(
    JSON.stringify({
      architecture: 'tinynet',
      pretrained_cfg: { input_size: [3, 224, 224], crop_pct: cropPct, crop_mode: mode },
    }),
  );
const convnext = (cropPct: number) =>
  parseHfFolder(
    JSON.stringify({ model_type: 'convnext' }),
    JSON.stringify({
      image_processor_type: 'ConvNextImageProcessor',
      crop_pct: cropPct,
      size: { shortest_edge: 224 },
      resample: 3,
      rescale_factor: 1 / 255,
      image_mean: [0.5],
      image_std: [0.5],
    }),
  );

describe('a crop_pct whose first resize is larger than any input', () => {
  it.each(['center', 'squash'])("timm (crop_mode '%s') is refused naming crop_pct", (mode) => {
    const message = refusal(() => timm(0.001, mode));
    expect(message).toContain("The model folder's config.json says pretrained_cfg.crop_pct is 0.001");
    expect(message).toContain(`at most ${MAX_INPUT_SIDE}`);
  });

  it('ConvNext is refused naming crop_pct', () => {
    const message = refusal(() => convnext(0.01));
    expect(message).toContain("The model folder's preprocessor_config.json says crop_pct is 0.01");
    expect(message).toContain(`at most ${MAX_INPUT_SIDE}`);
  });

  it('the largest resize that fits is still taken', () => {
    // floor(224 / (224 / 4096)) is 4096 or 4095 by rounding; either is within the bound.
    expect(timm(224 / 4096).hints.resizeFirst).toMatchObject({ kind: 'shortest-edge' });
    expect(timm(0.875).hints.resizeFirst).toEqual({ kind: 'shortest-edge', size: 256, offset: 'round' });
  });
});
