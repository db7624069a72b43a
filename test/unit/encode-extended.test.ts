/**
 * Gradient graphs and shape probes are written as the source model's own bytes plus an appended message
 * (protobuf merges the two graphs): ONNX Runtime must read exactly the model the transform built.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { addGradients } from '../../src/engines/onnx/autodiff/index.js';
import { decodeModel, encodeExtended, encodeModel } from '../../src/engines/onnx/proto.js';
import { readNpy } from '../../src/io/npy-file.js';

const golden = (name: string) => fileURLToPath(new URL(`../fixtures/golden/${name}`, import.meta.url));

async function gradients(bytes: Uint8Array, x: ort.Tensor, seed: ort.Tensor): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const result = await session.run({ input: x, sightline_seed: seed });
    return result.sightline_input_gradient.data as Float32Array;
  } finally {
    await session.release();
  }
}

describe('encodeExtended', () => {
  it('appends an output to a decoded model without re-encoding it', async () => {
    const bytes = new Uint8Array(readFileSync(golden('conv_basic.onnx')));
    const model = decodeModel(bytes);
    const out = model.graph!.output![0].name;
    const extended = encodeExtended(model, {
      node: [{ opType: 'Identity', input: [out], output: ['copy'] }],
      output: [{ name: 'copy' }],
    });
    expect(Buffer.from(extended.subarray(0, bytes.length)).equals(Buffer.from(bytes))).toBe(true);
    expect(decodeModel(extended).graph!.output!.map((v) => v.name)).toEqual([out, 'copy']);
    const x = await readNpy(golden('conv_basic.input.npy'));
    const session = await ort.InferenceSession.create(extended);
    const result = await session.run({
      [model.graph!.input![0].name]: new ort.Tensor('float32', x.data, x.shape),
    });
    await session.release();
    expect(result.copy.data).toEqual(result[out].data);
    // A model not decoded from bytes (here a copy) is encoded whole, to the same model.
    const whole = encodeExtended(structuredClone(model), { output: [{ name: 'copy' }], node: [] });
    expect(decodeModel(whole).graph!.output!.map((v) => v.name)).toEqual([out, 'copy']);
  });

  it.each([['conv_basic'], ['net_tiny_cnn'], ['maxpool_overlap']])(
    "%s: the gradient graph's bytes give the gradients of the graph encoded whole",
    async (name) => {
      const bytes = new Uint8Array(readFileSync(golden(`${name}.onnx`)));
      const model = decodeModel(bytes);
      const graph = await addGradients(model);
      // Only appended to the source (MaxPool's rule adds its own indices node instead of editing the
      // forward one), so the source's bytes lead the graph's.
      expect(graph.tail()).toBeDefined();
      expect(Buffer.from(graph.encode().subarray(0, bytes.length)).equals(Buffer.from(bytes))).toBe(true);
      const x = await readNpy(golden(`${name}.input.npy`));
      const seed = await readNpy(golden(`${name}.seed.npy`));
      const input = model.graph!.input![0].name;
      expect(input).toBe('input');
      const feeds = [
        new ort.Tensor('float32', x.data, x.shape),
        new ort.Tensor('float32', seed.data, seed.shape),
      ] as const;
      const fast = await gradients(graph.encode(), ...feeds);
      const whole = await gradients(encodeModel(graph.model), ...feeds);
      expect(fast).toEqual(whole);
      const torch = await readNpy(golden(`${name}.grad.npy`));
      let worst = 0;
      for (let i = 0; i < torch.data.length; i++) worst = Math.max(worst, Math.abs(fast[i] - torch.data[i]));
      expect(worst).toBeLessThan(1e-4);
    },
  );

  it("keeps no second copy of the model's kernels: the appended tail is small next to the source", async () => {
    // Stride-1 conv kernels are flipped by nodes over the forward weights (folded by ONNX Runtime at
    // load), so ShuffleNetV2's gradient graph adds ~50 KB of nodes and small constants; a copy of its
    // kernels would be ~1.3 MB of its 1.5 MB.
    const bytes = new Uint8Array(readFileSync(golden('net_shufflenet_v2.onnx')));
    const graph = await addGradients(decodeModel(bytes));
    expect(graph.tail()!.length).toBeLessThan(bytes.length / 10);
  });
});
