#!/usr/bin/env node
import { Command } from 'commander';
import { reportError } from './errors.js';
import { explainCommand } from './explain.js';

const program = new Command('sightline')
  .description('See where an image model looked: saliency maps for ONNX, TFLite and black-box models.')
  .showHelpAfterError()
  .addCommand(explainCommand());

program.parseAsync(process.argv).catch((error: unknown) => {
  process.exitCode = reportError(error);
});
