#!/usr/bin/env node
import { Command } from 'commander';
import { auditCommand } from './audit.js';
import { autodiffCommand } from './autodiff.js';
import { reportError } from './errors.js';
import { evaluateCommand } from './evaluate.js';
import { explainCommand } from './explain.js';
import { gradientCommand } from './gradient.js';
import { serveCommand } from './serve.js';

const program = new Command('sightline')
  .description('See where an image model looked: saliency maps for ONNX, TFLite and black-box models.')
  .showHelpAfterError()
  .addCommand(explainCommand())
  .addCommand(auditCommand())
  .addCommand(evaluateCommand())
  .addCommand(autodiffCommand())
  .addCommand(gradientCommand())
  .addCommand(serveCommand());

program.parseAsync(process.argv).catch((error: unknown) => {
  process.exitCode = reportError(error);
});
