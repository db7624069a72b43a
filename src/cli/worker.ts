// `sightline worker --queue redis://…`: one worker of a queued audit (src/queue/worker.ts), on any machine that
// reads the images and the model at the paths the coordinator gives. SIGTERM (or Ctrl-C) finishes the jobs in
// hand and exits; a second one exits at once, and those jobs are redone elsewhere once their lock expires.
import { realpath } from 'node:fs/promises';
import { Command } from 'commander';
import { fileErrorReason, SightlineError } from '../core/errors.js';
import { isHttpUrl } from '../core/url.js';
import type { ModelHints } from '../models/spec.js';
import { redisTarget } from '../queue/connection.js';
import { startWorker } from '../queue/worker.js';
import { positiveInt } from './audit-queue.js';
import { loadModelForCli } from './options.js';
import { printError, safeName } from './print.js';

interface WorkerFlags {
  queue: string;
  header?: string[];
  apiKeyEnv?: string;
  apiKeyHeader?: string;
  concurrency: number;
  root: string[];
  lockSeconds: number;
  threads?: number;
}

export function workerCommand(): Command {
  return new Command('worker')
    .description(
      'Audit or evaluate images for a coordinator (sightline audit --queue, sightline evaluate --queue) through a BullMQ queue on Redis.',
    )
    .requiredOption(
      '--queue <redis-url>',
      'the Redis of the queue: redis://[:password@]host:port/db, rediss:// for TLS, or env:VAR for a URL in that variable (passwords are never printed)',
    )
    .option(
      '--concurrency <n>',
      "images in their model passes at once, as audit's --concurrency (twice as many jobs are held, so one image's pictures and upload overlap the next one's model passes)",
      positiveInt,
      1,
    )
    .option(
      '--threads <n>',
      "ONNX Runtime threads per model (default: ONNX Runtime's choice); with several workers on one machine, cores ÷ workers",
      positiveInt,
    )
    .option(
      '--root <dir>',
      'a folder (or file) jobs may name images, masks, models, labels and references in (repeatable; default: the current folder)',
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option(
      '--header <"Name: value">',
      "HTTP models: a header for every request of this worker's jobs (repeatable; values are never printed nor put in Redis)",
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option(
      '--api-key-env <VAR>',
      "HTTP models: send this variable's value as 'Authorization: Bearer <key>' (it stays on this machine)",
    )
    .option('--api-key-header <name>', 'HTTP models: send the key raw in this header instead')
    .option(
      '--lock-seconds <s>',
      "how long a job stays with this worker without a sign of life; a killed worker's job is redone after about this long",
      positiveInt,
      30,
    )
    .action(async (flags: WorkerFlags) => {
      process.exitCode = await runWorker(flags);
    });
}

async function runWorker(flags: WorkerFlags): Promise<number> {
  const target = redisTarget(flags.queue);
  // Read where the models are loaded (models/load.ts sessionThreads), as it is for any other command.
  if (flags.threads !== undefined) process.env.SIGHTLINE_THREADS = String(flags.threads);
  const roots: string[] = [];
  for (const root of flags.root ?? ['.']) {
    try {
      roots.push(await realpath(root));
    } catch (cause) {
      throw new SightlineError(
        'IO',
        `--root '${safeName(root)}' cannot be read: ${fileErrorReason(cause)}; expected a folder.`,
        {
          root,
        },
      );
    }
  }
  const log = (line: string) => printError(`sightline worker: ${safeName(line)}\n`);
  const worker = await startWorker({
    target,
    concurrency: flags.concurrency,
    roots,
    lockSeconds: flags.lockSeconds,
    loadModel: (ref, hints) => loadModelForCli(ref, withSecrets(ref, hints, flags)),
    log,
  });
  log(`taking jobs from ${target.shown} (concurrency ${flags.concurrency}).`);
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = () => {
      if (stopping) process.exit(143);
      stopping = true;
      log('stopping after the jobs in hand.');
      resolve();
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  await worker.close();
  log('stopped.');
  return 0;
}

/**
 * A job's model hints with this worker's HTTP headers and key added, for an HTTP model: secrets never travel in
 * a job (job.ts refuses them), so each worker is given its own, and Redis never holds one.
 */
function withSecrets(ref: string, hints: ModelHints, flags: WorkerFlags): ModelHints {
  if (!isHttpUrl(ref)) return hints;
  const secrets = {
    ...(flags.header?.length ? { headers: flags.header } : {}),
    ...(flags.apiKeyEnv ? { apiKeyEnv: flags.apiKeyEnv } : {}),
    ...(flags.apiKeyHeader ? { apiKeyHeader: flags.apiKeyHeader } : {}),
  };
  return Object.keys(secrets).length > 0 ? { ...hints, http: { ...hints.http, ...secrets } } : hints;
}
