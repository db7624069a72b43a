import { readFile, writeFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { Command } from 'commander';
import { SightlineError } from '../core/errors.js';
import { addGradients } from '../engines/onnx/autodiff/index.js';
import { decodeModel, encodeModel, type ModelProto } from '../engines/onnx/proto.js';
import { convertTfliteCached } from '../models/tflite.js';

async function readOnnx(path: string): Promise<ModelProto> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (cause) {
    throw new SightlineError(
      'IO',
      `Cannot read the model '${path}': ${(cause as Error).message}`,
      {},
      { cause },
    );
  }
  const ext = extname(path).toLowerCase();
  if (ext === '.tflite' || ext === '.lite') return decodeModel((await convertTfliteCached(bytes)).bytes);
  try {
    return decodeModel(bytes);
  } catch (cause) {
    throw new SightlineError(
      'MODEL_LOAD',
      `'${path}' is not an ONNX model: ${(cause as Error).message}`,
      {},
      { cause },
    );
  }
}

export function autodiffCommand(): Command {
  return new Command('autodiff')
    .description(
      'Write a gradient-augmented ONNX model that any ONNX Runtime can run (forward and backward in one call).',
    )
    .argument('<model>', '.onnx (or .tflite, converted first)')
    .requiredOption('-o, --out <file.onnx>', 'where to write the augmented model')
    .option('--layer <tensor...>', 'also expose these intermediate tensors with their gradients')
    .option('--input <name>', 'input to differentiate (default: the only one)')
    .option('--output <name>', 'output to differentiate (default: the first)')
    .action(
      async (path: string, flags: { out: string; layer?: string[]; input?: string; output?: string }) => {
        const model = await readOnnx(path);
        const graph = await addGradients(model, {
          layers: flags.layer,
          input: flags.input,
          output: flags.output,
        });
        await writeFile(flags.out, encodeModel(graph.model));
        const output = flags.output ?? model.graph?.output?.[0]?.name;
        process.stdout.write(
          [
            `Wrote ${flags.out}.`,
            `  extra input  '${graph.seedName}': float32, shaped like '${output}' — the weight of each score (one-hot for one class)`,
            `  extra output '${graph.inputGradientName}': ∂Σ(seed ⊙ ${output}) / ∂input, shaped like the input`,
            ...graph.layers.map(
              (l) => `  extra outputs '${l.activation}' and '${l.gradient}': the layer and its gradient`,
            ),
            '',
          ].join('\n'),
        );
      },
    );
}
