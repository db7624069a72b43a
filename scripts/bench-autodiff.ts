// Times the ONNX autodiff transform on single convolution layers: forward alone against forward + backward
// in one call of the transformed graph, and, for reference, the same input gradient written as one
// ConvTranspose node. Ratios, not absolute times, are the result (same process, same threads).
//   npx tsx scripts/bench-autodiff.ts            batch 16, 2 threads
//   BENCH_BATCH=4 BENCH_THREADS=1 npx tsx scripts/bench-autodiff.ts
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import { addGradients } from '../src/engines/onnx/autodiff/index.js';
import {
  attr,
  buildModel,
  encodeModel,
  floatTensor,
  type ModelProto,
  valueInfo,
} from '../src/engines/onnx/proto.js';

const batch = Number(process.env.BENCH_BATCH ?? 16);
const threads = Number(process.env.BENCH_THREADS ?? 2);
const reps = Number(process.env.BENCH_REPS ?? 5);

interface Layer {
  name: string;
  channels: number;
  out: number;
  size: number;
  kernel: number;
  stride: number;
  group: number;
}

const layers: Layer[] = [
  { name: 'depthwise 3×3, 96 ch, 112²', channels: 96, out: 96, size: 112, kernel: 3, stride: 1, group: 96 },
  {
    name: 'depthwise 3×3 s2, 144 ch, 56²',
    channels: 144,
    out: 144,
    size: 56,
    kernel: 3,
    stride: 2,
    group: 144,
  },
  { name: 'full 3×3, 64 ch, 56²', channels: 64, out: 64, size: 56, kernel: 3, stride: 1, group: 1 },
  { name: 'full 3×3 s2, 64→128 ch, 56²', channels: 64, out: 128, size: 56, kernel: 3, stride: 2, group: 1 },
  { name: 'full 1×1 s2, 64→128 ch, 56²', channels: 64, out: 128, size: 56, kernel: 1, stride: 2, group: 1 },
  { name: 'stem 7×7 s2, 3→64 ch, 224²', channels: 3, out: 64, size: 224, kernel: 7, stride: 2, group: 1 },
];

function weights(layer: Layer): Float32Array {
  const n = layer.out * (layer.channels / layer.group) * layer.kernel ** 2;
  return Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 0.1);
}

function convAttributes(layer: Layer) {
  const pad = Math.floor(layer.kernel / 2);
  return [
    attr('kernel_shape', [layer.kernel, layer.kernel]),
    attr('strides', [layer.stride, layer.stride]),
    attr('pads', [pad, pad, pad, pad]),
    attr('group', layer.group),
  ];
}

function forwardModel(layer: Layer): ModelProto {
  return buildModel({
    inputs: [valueInfo('x', ['N', layer.channels, layer.size, layer.size])],
    outputs: [valueInfo('y', ['N', layer.out, 'H', 'W'])],
    initializers: [
      floatTensor('w', [layer.out, layer.channels / layer.group, layer.kernel, layer.kernel], weights(layer)),
    ],
    nodes: [{ opType: 'Conv', input: ['x', 'w'], output: ['y'], attribute: convAttributes(layer) }],
  });
}

/** The input gradient alone as one ConvTranspose (what the transform avoids). */
function transposeModel(layer: Layer, outSize: number): ModelProto {
  const pad = Math.floor(layer.kernel / 2);
  const covered = (outSize - 1) * layer.stride - 2 * pad + layer.kernel;
  return buildModel({
    inputs: [valueInfo('dy', ['N', layer.out, outSize, outSize])],
    outputs: [valueInfo('dx', ['N', layer.channels, layer.size, layer.size])],
    initializers: [
      floatTensor('w', [layer.out, layer.channels / layer.group, layer.kernel, layer.kernel], weights(layer)),
    ],
    nodes: [
      {
        opType: 'ConvTranspose',
        input: ['dy', 'w'],
        output: ['dx'],
        attribute: [
          ...convAttributes(layer),
          attr('output_padding', [layer.size - covered, layer.size - covered]),
        ],
      },
    ],
  });
}

async function time(model: ModelProto, feeds: Record<string, ort.Tensor>): Promise<number> {
  const session = await ort.InferenceSession.create(encodeModel(model), {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  await session.run(feeds);
  const times: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    await session.run(feeds);
    times.push(performance.now() - t0);
  }
  await session.release();
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)];
}

function filled(dims: number[]): ort.Tensor {
  const size = dims.reduce((a, b) => a * b, 1);
  return new ort.Tensor(
    'float32',
    Float32Array.from({ length: size }, (_, i) => Math.cos(i)),
    dims,
  );
}

console.log(
  `batch ${batch}, ${threads} threads, median of ${reps} runs (onnxruntime-node ${ort.env.versions.common})`,
);
console.log(
  '| layer | forward ms | forward+backward ms | ratio | backward ÷ forward | ConvTranspose alone ÷ forward |',
);
console.log('|---|---|---|---|---|---|');
for (const layer of layers) {
  const model = forwardModel(layer);
  const x = filled([batch, layer.channels, layer.size, layer.size]);
  const outSize =
    Math.floor((layer.size + 2 * Math.floor(layer.kernel / 2) - layer.kernel) / layer.stride) + 1;
  const seed = filled([batch, layer.out, outSize, outSize]);
  const forward = await time(model, { x });
  const gradient = await addGradients(model);
  const both = await time(gradient.model, { x, [gradient.seedName]: seed });
  const transposed = await time(transposeModel(layer, outSize), { dy: seed });
  console.log(
    `| ${layer.name} | ${forward.toFixed(1)} | ${both.toFixed(1)} | ${(both / forward).toFixed(2)} | ${((both - forward) / forward).toFixed(2)} | ${(transposed / forward).toFixed(2)} |`,
  );
}
