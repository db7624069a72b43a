// evaluate on an image whose preparation fails (issue 13 review): a segmenter's class with no pixels in one
// photo fails that image with the preparation's own reason, not as "no method works with this model".
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Model } from '../../src/core/model.js';
import { encodeModel } from '../../src/engines/onnx/proto.js';
import { evaluateImage } from '../../src/evaluate/evaluate.js';
import { openOnnxModel } from '../../src/models/open.js';
import type { Patch } from '../helpers/analytic.js';
import { photo, segmenterProto, toPixels } from '../helpers/target-models.js';

const READ1: Patch = { x0: 0, y0: 0, x1: 6, y1: 6 };
const OWN1: Patch = { x0: 6, y0: 6, x1: 8, y1: 8 };
const READ2: Patch = { x0: 6, y0: 0, x1: 8, y1: 4 };
const OWN2: Patch = { x0: 0, y0: 6, x1: 2, y1: 8 };
// Input = (pixel/255 − 0.6) / 0.1: dog's grey mean over READ2 is 4 when it is white (its cells score 9, over
// the background's 0) and −6 when it is black (they score −1: dog has no pixels in that photo).
const SKEWED = { mean: [0.6], std: [0.1] };
const WHITE = photo(3, [{ patch: toPixels(READ2), rgb: [255, 255, 255] }]);
const BLACK = photo(3, [{ patch: toPixels(READ2), rgb: [0, 0, 0] }]);

describe('evaluate when the preparation fails on one image', () => {
  let model: Model;
  beforeAll(async () => {
    model = await openOnnxModel(encodeModel(segmenterProto([READ1, READ2], [OWN1, OWN2])), {
      ...SKEWED,
      labels: ['background', 'cat', 'dog'],
    });
  });
  afterAll(async () => model.dispose());

  it('the photo where dog has its 4 cells is measured', async () => {
    const result = await evaluateImage({
      model,
      file: 'white.png',
      image: WHITE,
      methods: ['gradient'],
      metrics: ['deletion'],
      target: 'dog',
    });
    expect(result.methods[0].error).toBeUndefined();
    expect(result.target.description).toMatchObject({ kind: 'segment', class: 2, pixels: 4 });
  });

  it("the photo where dog has none fails with prepare's reason, for every method alike", async () => {
    const failed = evaluateImage({
      model,
      file: 'black.png',
      image: BLACK,
      methods: ['gradient', 'occlusion'],
      metrics: ['deletion'],
      target: 'dog',
    });
    await expect(failed).rejects.toThrow(
      "The model gives 'dog' (2) none of the 8 × 8 output pixels of this photo, so it has no region of its own; pass a region",
    );
    await expect(failed).rejects.not.toThrow(/at least one method/);
  });

  it('a region outside the photo fails with the region error, not as a method problem', async () => {
    const failed = evaluateImage({
      model,
      file: 'white.png',
      image: WHITE,
      methods: ['gradient'],
      metrics: ['deletion'],
      target: 'dog',
      region: { x0: 40, y0: 40, x1: 50, y1: 50 },
    });
    await expect(failed).rejects.not.toThrow(/at least one method/);
    await expect(failed).rejects.toThrow(/region/i);
  });
});
