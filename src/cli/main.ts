#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command, type CommanderError } from 'commander';
import { auditCommand } from './audit.js';
import { autodiffCommand } from './autodiff.js';
import { compareCommand } from './compare.js';
import { reportError } from './errors.js';
import { evaluateCommand } from './evaluate.js';
import { explainCommand } from './explain.js';
import { gradientCommand } from './gradient.js';
import { serveCommand } from './serve.js';
import { workerCommand } from './worker.js';

// dist/cli/main.js and src/cli/main.ts both sit two folders below the package.json they ship with.
const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

const program = new Command('sightline')
  .version(version, '-V, --version', 'print the version and exit')
  .description('See where an image model looked: saliency maps for ONNX, TFLite and black-box models.')
  .showHelpAfterError()
  .addCommand(explainCommand())
  .addCommand(auditCommand())
  .addCommand(evaluateCommand())
  .addCommand(compareCommand())
  .addCommand(autodiffCommand())
  .addCommand(gradientCommand())
  .addCommand(serveCommand())
  .addCommand(workerCommand());

// Commander's own usage errors (an unknown option, a choice not allowed, a missing value) exit 2 like every
// other bad argument (src/cli/errors.ts); help and --version still exit 0. Commander has printed the message.
for (const command of [program, ...program.commands]) {
  command.exitOverride((error: CommanderError) => process.exit(error.exitCode === 0 ? 0 : 2));
}

program.parseAsync(process.argv).catch((error: unknown) => {
  process.exitCode = reportError(error);
});
