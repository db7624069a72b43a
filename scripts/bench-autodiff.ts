// Per conv kind, the input-gradient backward of the ONNX autodiff transform ÷ the forward pass of the same
// layer: forward alone against forward + backward in one call of the transformed graph (so backward ÷ forward
// = (both − forward) ÷ forward), and for reference the gradient as one ConvTranspose node. Layer shapes are
// MobileNetV2's and ResNet50's (plus ResNeXt's grouped and a dilated 3×3), at batch 1 and 16. Runs alternate
// between the graphs and the best of each is kept (other jobs only ever add time); every graph's outputs are
// cut to one element so no run pays for a fresh large output buffer (see tiny in bench-conv-forms.ts).
// Ratios, not absolute times, are the result. scripts/bench-conv-forms.ts compares the candidate forms.
//   npx tsx scripts/bench-autodiff.ts                  batch 1 and 16, 2 threads
//   BENCH_THREADS=1 BENCH_BATCHES=16 BENCH_REPS=9 BENCH_JSON=autodiff.json npx tsx scripts/bench-autodiff.ts
//   BENCH_LAYERS='576 14²|256 28²'     only the layers whose names contain one of these ('|'-separated)
import { writeFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { addGradients } from '../src/engines/onnx/autodiff/index.js';
import { attr, buildModel, floatTensor, type ModelProto, valueInfo } from '../src/engines/onnx/proto.js';
import {
  alternate,
  filled,
  forwardModel,
  LAYERS,
  type Layer,
  layerOutSize,
  layerPad,
  layerWeights,
  session,
  tiny,
} from './bench-conv-forms.js';

const batches = (process.env.BENCH_BATCHES ?? '1,16').split(',').map(Number);
const threads = Number(process.env.BENCH_THREADS ?? 2);
const reps = Number(process.env.BENCH_REPS ?? 7);
const only = process.env.BENCH_LAYERS?.split('|').filter(Boolean);

/** The input gradient alone as one ConvTranspose (the form the transform uses for strided layers). */
function transposeModel(layer: Layer): ModelProto {
  const out = layerOutSize(layer);
  const d = layer.dilation ?? 1;
  const pad = layerPad(layer);
  const extra = layer.size + pad - (layer.kernel - 1) * d - 1 - layer.stride * (out - 1);
  return buildModel({
    inputs: [valueInfo('dy', ['N', layer.cout, out, out])],
    outputs: [valueInfo('dx', ['N', layer.cin, layer.size, layer.size])],
    initializers: [
      floatTensor(
        'w',
        [layer.cout, layer.cin / layer.group, layer.kernel, layer.kernel],
        layerWeights(layer),
      ),
    ],
    nodes: [
      {
        opType: 'ConvTranspose',
        input: ['dy', 'w'],
        output: ['dx'],
        attribute: [
          attr('kernel_shape', [layer.kernel, layer.kernel]),
          attr('strides', [layer.stride, layer.stride]),
          attr('dilations', [d, d]),
          attr('pads', [pad, pad, Math.max(0, -extra), Math.max(0, -extra)]),
          attr('output_padding', [Math.max(0, extra), Math.max(0, extra)]),
          attr('group', layer.group),
        ],
      },
    ],
  });
}

function kind(layer: Layer): string {
  const depthwise = layer.group === layer.cin && layer.group === layer.cout;
  const what = depthwise
    ? 'depthwise'
    : layer.group > 1
      ? 'grouped'
      : (layer.dilation ?? 1) > 1
        ? 'dilated'
        : layer.kernel === 1
          ? '1×1'
          : layer.cin <= 4
            ? 'stem'
            : 'full';
  return `${what} s${layer.stride}`;
}

export interface AutodiffRow {
  layer: string;
  kind: string;
  batch: number;
  forwardMs: number;
  backwardOverForward: number;
  convTransposeOverForward: number;
}

export async function benchAutodiff(): Promise<AutodiffRow[]> {
  console.log(
    `conv input gradient, backward ÷ forward per layer: ${threads} threads, best of ${reps} alternated runs (onnxruntime-node ${ort.env.versions.common})`,
  );
  console.log('| layer | kind | batch | forward ms | backward ÷ forward | ConvTranspose alone ÷ forward |');
  console.log('|---|---|---|---|---|---|');
  const rows: AutodiffRow[] = [];
  for (const batch of batches) {
    for (const layer of LAYERS) {
      if (only && !only.some((part) => layer.name.includes(part))) continue;
      const model = forwardModel(layer);
      const gradient = await addGradients(model);
      const x = filled([batch, layer.cin, layer.size, layer.size]);
      const dy = filled([batch, layer.cout, layerOutSize(layer), layerOutSize(layer)]);
      const runs: { session: ort.InferenceSession; feeds: Record<string, ort.Tensor> }[] = [
        { session: await session(tiny(model)), feeds: { x } },
        { session: await session(tiny(gradient.model)), feeds: { x, [gradient.seedName]: dy } },
        { session: await session(tiny(transposeModel(layer))), feeds: { dy } },
      ];
      const [forward, both, transposed] = await alternate(runs, reps);
      for (const r of runs) await r.session.release();
      const row = {
        layer: layer.name,
        kind: kind(layer),
        batch,
        forwardMs: Number(forward.toFixed(2)),
        backwardOverForward: Number(((both - forward) / forward).toFixed(2)),
        convTransposeOverForward: Number((transposed / forward).toFixed(2)),
      };
      rows.push(row);
      console.log(
        `| ${row.layer} | ${row.kind} | ${batch} | ${forward.toFixed(1)} | ${row.backwardOverForward.toFixed(2)} | ${row.convTransposeOverForward.toFixed(2)} |`,
      );
    }
  }
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = await benchAutodiff();
  if (process.env.BENCH_JSON) writeFileSync(process.env.BENCH_JSON, `${JSON.stringify(rows, null, 2)}\n`);
}
