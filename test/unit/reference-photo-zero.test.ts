// A reference photo the embedding model sees nothing in (an all-zero embedding) is refused naming the photo's
// embedding, not "the reference vector" the user never gave.
import { expect, it } from 'vitest';
import { encodeModel } from '../../src/engines/onnx/proto.js';
import { prepare } from '../../src/explain.js';
import { openOnnxModel } from '../../src/models/open.js';
import { embedderProto, photo } from '../helpers/target-models.js';

it("a reference photo whose embedding is all zeros is refused naming the photo's embedding", async () => {
  const model = await openOnnxModel(encodeModel(embedderProto()), { mean: [0], std: [1], task: 'embed' });
  try {
    // The embedder reads only coloured pixels (a channel over half); dark noise gives all zeros.
    const lit = photo(5, [{ patch: { x0: 8, y0: 8, x1: 16, y1: 16 }, rgb: [250, 20, 20] }]);
    await expect(prepare({ model, image: lit, reference: photo(3, []) })).rejects.toThrow(
      "The reference photo's embedding (the model's output for it) is all zeros; a cosine similarity to it is undefined.",
    );
    await expect(prepare({ model, image: lit, reference: new Float32Array(192) })).rejects.toThrow(
      'The reference vector is all zeros',
    );
  } finally {
    await model.dispose();
  }
});
