import { Command } from 'commander';
import { SightlineError } from '../core/errors.js';
import { readNpy, writeNpy } from '../io/npy-file.js';
import { loadModel } from '../models/load.js';

export function gradientCommand(): Command {
  return new Command('gradient')
    .description('Compute ∂Σ(seed ⊙ output)/∂input for a raw input tensor, through ONNX autodiff.')
    .argument('<model>', "'default', .onnx or .tflite")
    .requiredOption(
      '--input <x.npy>',
      'float32 input batch, shaped as the model takes it (e.g. [N, 3, H, W] or [N, H, W, 3])',
    )
    .requiredOption('--seed <seed.npy>', 'float32 output weights [N, K]')
    .requiredOption('-o, --out <grad.npy>', 'where to write the gradient (shaped like the input)')
    .action(async (ref: string, flags: { input: string; seed: string; out: string }) => {
      const x = await readNpy(flags.input);
      const seed = await readNpy(flags.seed);
      if (x.shape.length !== 4) {
        throw new SightlineError(
          'MODEL_SHAPE',
          `The input '${flags.input}' has shape [${x.shape.join(', ')}]; expected a batch of images of rank 4.`,
        );
      }
      if (seed.shape.length !== 2 || seed.shape[0] !== x.shape[0]) {
        throw new SightlineError(
          'MODEL_SHAPE',
          `The seed '${flags.seed}' has shape [${seed.shape.join(', ')}]; expected [${x.shape[0]}, K], one row of output weights per input.`,
        );
      }
      // The spec only needs what the tensor already shows: no resizing or normalisation happens here.
      const layout = x.shape[1] === 3 ? 'NCHW' : 'NHWC';
      const [height, width] = layout === 'NCHW' ? [x.shape[2], x.shape[3]] : [x.shape[1], x.shape[2]];
      const model = await loadModel(ref, { layout, width, height, maxBatch: x.shape[0] });
      try {
        if (!model.inputGradients || !model.capabilities.has('inputGradients')) {
          throw new SightlineError('MISSING_CAPABILITY', `The model '${ref}' offers no input gradients.`);
        }
        const result = await model.inputGradients(
          { data: x.data, dims: x.shape },
          { data: seed.data, dims: seed.shape },
        );
        await writeNpy(flags.out, result.gradients.data, result.gradients.dims);
        process.stdout.write(`Wrote ${flags.out} [${result.gradients.dims.join(', ')}].\n`);
      } finally {
        await model.dispose();
      }
    });
}
