// evaluate on a detector: the deletion and insertion curves follow the detection's D-RISE similarity (its
// target model's one output), and the summary, evaluation.json and the HTML page must say so, not call it a
// class probability.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { evaluateImage } from '../../src/evaluate/evaluate.js';
import { curveQuantity, renderEvaluationHtml, tabulate } from '../../src/evaluate/summary.js';
import { decodeNpy } from '../../src/io/npy.js';
import { openOnnxModel } from '../../src/models/open.js';

const DIR = fileURLToPath(new URL('../fixtures/detectors/', import.meta.url));

it("names the detection's similarity as what a detector's curves follow", async () => {
  const model = await openOnnxModel(readFileSync(`${DIR}postnms.onnx`), { iouThreshold: 0.45 });
  try {
    const x = decodeNpy(readFileSync(`${DIR}input.npy`));
    const [, , h, w] = x.shape;
    const data = new Uint8Array(w * h * 3);
    for (let c = 0; c < 3; c++)
      for (let p = 0; p < w * h; p++) data[p * 3 + c] = Math.round(x.data[c * w * h + p] * 255);
    const result = await evaluateImage({
      file: 'photo.png',
      model,
      image: { width: w, height: h, data },
      methods: ['occlusion'],
      metrics: ['deletion', 'insertion'],
      options: { occlusion: { window: 16, stride: 16 } },
    });
    expect(model.spec.task).toBe('detect');
    const d = result.target.description;
    expect(d?.kind).toBe('detection');
    // The unmodified photo's similarity is the detection's own: IoU 1 with its box × its score.
    const curves = result.methods[0].curves!;
    expect(curves.deletion[0]).toBeCloseTo(d?.kind === 'detection' ? d.score : Number.NaN, 5);
    const quantity = curveQuantity('detect', [result]);
    expect(quantity).not.toMatch(/probability/);
    expect(quantity).toMatch(/similarity/);
    const table = tabulate([result], ['deletion', 'insertion']);
    const html = renderEvaluationHtml(table, {
      model: 'postnms.onnx',
      images: 1,
      task: 'detect',
      results: [result],
    });
    expect(html).toContain(quantity);
  } finally {
    await model.dispose();
  }
});
