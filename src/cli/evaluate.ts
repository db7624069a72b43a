import { mkdir, stat } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { type DetectTruth, readDetectTruth } from '../audit/detect-truth.js';
import { checkShapes, readMask, readRegions, regionsFor } from '../audit/regions/index.js';
import { invalidArgument, SightlineError } from '../core/errors.js';
import type { MethodOptions } from '../core/method.js';
import type { Model } from '../core/model.js';
import { shapesMask } from '../core/regions/mask.js';
import { matchedObjectMask } from '../evaluate/detect-region.js';
import {
  DEFAULT_METRICS,
  evaluateImage,
  type ImageEvaluation,
  METRIC_GROUPS,
  METRICS,
  type MetricName,
} from '../evaluate/evaluate.js';
import { curveQuantity, formatTable } from '../evaluate/summary.js';
import { refuseUnusedTargetParts } from '../explain.js';
import { decodeImage } from '../io/decode.js';
import { listImageEntries, noImages, type PassedOver } from '../io/list-images.js';
import { readReferenceFile } from '../io/reference-file.js';
import { getMethod } from '../methods/registry.js';
import { addQueueOptions } from './audit-queue.js';
import { evaluateOnQueue } from './evaluate-queue.js';
import { type EvaluationSettings, earlierResults, withoutSecrets, writeResults } from './evaluate-results.js';
import { interruptible } from './interrupt.js';
import {
  addModelOptions,
  defaultMethodId,
  detectorFlagsGiven,
  loadModelForCli,
  MODEL_REF_HELP,
  type ModelFlags,
  methodOptionFlags,
  methodOptions,
  modelHints,
  modelLabel,
  parseNumber,
  refuseDetectorFlags,
} from './options.js';
import { print, printError, safeName } from './print.js';
import { REFERENCE_HELP } from './target-flags.js';

interface EvaluateFlags extends ModelFlags {
  model: string;
  /** Absent when not given: the default depends on the model (defaultMethods). */
  methods?: string[];
  metrics: MetricName[];
  regions?: string;
  out: string;
  curveSteps?: number;
  sanityBlocks?: number;
  classNames?: string;
  restart?: boolean;
  target?: string;
  reference?: string;
  /** Measure on workers through a BullMQ queue at this Redis URL (cli/evaluate-queue.ts). */
  queue?: string;
  inFlight: number;
  attempts: number;
}

export function evaluateCommand(): Command {
  const cmd = new Command('evaluate')
    .description(
      'Measure how faithful each method’s maps are: deletion/insertion AUC, region metrics, stability.',
    )
    .argument('<path>', 'an image or a folder of images')
    .option('-m, --model <ref>', MODEL_REF_HELP, 'default')
    .addOption(
      new Option(
        '--methods <ids>',
        'comma-separated method ids (default: gradient, grad-cam and rise, less those the model cannot run)',
      ).argParser(parseMethods),
    )
    .addOption(
      new Option(
        '--metrics <names>',
        `comma-separated, from ${METRICS.join(', ')} (sanity = ${METRIC_GROUPS.sanity.join(' + ')})`,
      )
        .argParser(parseMetrics)
        .default([...DEFAULT_METRICS], DEFAULT_METRICS.join(',')),
    )
    .option(
      '--regions <file|folder>',
      'where the model should look (as for audit); enables energy, pointing, iou',
    )
    .option('-o, --out <dir>', 'folder for evaluation.json and evaluation.html', 'sightline-evaluate')
    .option(
      '--curve-steps <n>',
      'deletion/insertion steps (default: one row of the input per step)',
      parseNumber,
    )
    .option(
      '--sanity-blocks <n>',
      'blocks the randomization metric randomizes, from the top of the network',
      parseNumber,
      3,
    );
  cmd
    .option(
      '-t, --target <class>',
      "the class each image is explained for: 'top' (default; a segmenter's largest class that is not background), a class index, or a label",
    )
    .option('--reference <photo|vector.npy>', `${REFERENCE_HELP}, for every image`)
    .option('--restart', 'discard earlier results in --out instead of resuming');
  addModelOptions(cmd, '--class-names <file>');
  for (const option of methodOptionFlags()) cmd.addOption(option);
  addQueueOptions(cmd);
  return cmd.action(async (path: string, flags: EvaluateFlags, command: Command) => {
    await runEvaluate(path, flags, detectorFlagsGiven(command));
  });
}

async function runEvaluate(path: string, flags: EvaluateFlags, detectorFlags: string[]): Promise<void> {
  const { files, passedOver } = await listInputs(path);
  const root = (await stat(path)).isDirectory() ? resolve(path) : resolve(path, '..');
  const regions = flags.regions ? await readRegions(flags.regions) : undefined;
  // Read once: one reference serves every image (on the queue, its hash names the bytes the workers must read).
  const referenceFile = flags.reference === undefined ? undefined : await readReferenceFile(flags.reference);
  const reference = referenceFile?.reference;
  // Loaded before the settings are written: the default methods depend on the model.
  const model = await loadModelForCli(flags.model, modelHints(flags, flags.classNames));
  let methods: string[];
  try {
    refuseDetectorFlags(detectorFlags, model.spec.task);
    refuseUnusedTargetParts(model.spec.task, false, reference !== undefined);
    if (model.spec.task === 'embed' && reference === undefined)
      throw new SightlineError(
        'INVALID_ARGUMENT',
        'An embedding model is evaluated against a reference: --reference other.jpg (a photo, embedded by the same model) or --reference vector.npy; the deletion and insertion curves then follow the cosine similarity to it.',
      );
    methods = flags.methods ?? (await defaultMethods(model));
  } catch (error) {
    await model.dispose();
    throw error;
  }
  // A method option given once applies to every method that takes it (e.g. --samples for SmoothGrad and LIME).
  const options: Record<string, MethodOptions> = {};
  for (const id of methods) options[id] = methodOptions(getMethod(id), flags);
  const out = resolve(flags.out);
  await mkdir(out, { recursive: true });
  const settings: EvaluationSettings = {
    model: modelLabel(flags.model),
    hints: withoutSecrets(modelHints(flags, flags.classNames ? resolve(flags.classNames) : undefined)),
    methods,
    metrics: flags.metrics,
    options,
    curveSteps: flags.curveSteps ?? null,
    sanityBlocks: flags.metrics.includes('randomization') ? (flags.sanityBlocks ?? 3) : null,
    regions: flags.regions ? resolve(flags.regions) : null,
    // Absent unless given, so the results of earlier runs without them still resume.
    ...(flags.target !== undefined ? { target: flags.target } : {}),
    ...(flags.reference !== undefined ? { reference: resolve(flags.reference) } : {}),
  };
  const relFiles = files.map((f) => relative(root, f).split(sep).join('/'));
  const asked = new Set(relFiles);
  // Images measured by an earlier run with the same settings are kept (those still asked for); skipped ones
  // are tried again.
  const results: ImageEvaluation[] = flags.restart
    ? []
    : (await earlierResults(out, settings)).filter((r) => asked.has(r.file));
  // Entries with an image's name that are not regular files inside the folder are listed as skipped, unread,
  // so the evaluation says what it left out.
  const skipped: { file: string; reason: string }[] = passedOver.map((p) => ({
    file: p.file,
    reason: `'${p.file}' ${p.reason}; it was not read`,
  }));
  for (const s of skipped) printError(`${safeName(s.file)}: skipped: ${s.reason}\n`);
  const truth =
    model.spec.task === 'detect' && flags.regions ? await readDetectTruth(flags.regions) : undefined;
  const interrupt = interruptible('stopping…');
  const skip = (i: number, file: string, error: unknown) => {
    const reason = (error as Error).message;
    skipped.push({ file, reason });
    printError(`[${i + 1}/${files.length}] ${safeName(file)}: skipped: ${reason}\n`);
  };
  const save = () => writeResults(out, settings, model.spec.task, results, skipped);
  const done = new Set(results.map((r) => r.file));
  const todo = relFiles.filter((f) => !done.has(f)).length;
  printError(
    `Evaluating ${files.length} image${files.length === 1 ? '' : 's'} with ${methods.join(', ')}` +
      (done.size > 0 ? ` (resuming: ${files.length - todo} already done, ${todo} to go)` : '') +
      '.\n',
  );
  try {
    if (flags.queue)
      await evaluateOnQueue(flags.queue, {
        model: flags.model,
        hints: modelHints(flags, flags.classNames ? resolve(flags.classNames) : undefined),
        methods,
        metrics: flags.metrics,
        options,
        curveSteps: flags.curveSteps,
        sanityBlocks: flags.sanityBlocks,
        target: flags.target,
        ...(flags.reference && referenceFile
          ? { reference: { path: resolve(flags.reference), sha256: referenceFile.sha256 } }
          : {}),
        images: files.map((path, i) => ({ file: relFiles[i], path })).filter((f) => !done.has(f.file)),
        regions: (file) => (regions ? regionsFor(regions, file, relFiles) : undefined),
        objects: truth
          ? (file) => (regionsFor(truth, file, relFiles) as DetectTruth | undefined)?.objects ?? []
          : undefined,
        out,
        inFlight: flags.inFlight,
        attempts: flags.attempts,
        signal: interrupt.signal,
        async measured(evaluation) {
          results.push(evaluation);
          await save();
        },
        async skipped(file, reason) {
          skipped.push({ file, reason });
          await save();
        },
      });
    // On the queue, the workers measured every image: nothing is left for this loop.
    for (const [i, file] of (flags.queue ? [] : files).entries()) {
      const rel = relFiles[i];
      if (done.has(rel)) continue;
      let image: Awaited<ReturnType<typeof decodeImage>>;
      try {
        image = await decodeImage(file);
      } catch (error) {
        skip(i, rel, error);
        await save();
        continue;
      }
      // A region that does not fit or an image no method can explain is reported and skipped; the rest go on.
      let result: ImageEvaluation;
      try {
        const imageRegions = regions ? regionsFor(regions, rel, relFiles) : undefined;
        let regionMask: Uint8Array | undefined;
        if (truth) {
          // A detector's region is the object its explained detection found (evaluate/detect-region.ts).
          const objects = (regionsFor(truth, rel, relFiles) as DetectTruth | undefined)?.objects ?? [];
          const found = await matchedObjectMask(
            model,
            image,
            flags.target ?? 'top',
            objects,
            interrupt.signal,
          );
          if ('mask' in found) regionMask = found.mask;
          else printError(`[${i + 1}/${files.length}] ${safeName(rel)}: no region metrics: ${found.none}.\n`);
        } else if (imageRegions) {
          if (imageRegions.maskPath)
            regionMask = await readMask(imageRegions.maskPath, image.width, image.height);
          else {
            checkShapes(imageRegions, image.width, image.height, rel);
            regionMask = shapesMask(imageRegions.shapes, image.width, image.height);
          }
        }
        result = await evaluateImage({
          model,
          file: rel,
          image,
          methods,
          metrics: flags.metrics,
          options,
          regionMask,
          target: flags.target,
          reference,
          curveSteps: flags.curveSteps,
          sanityBlocks: flags.sanityBlocks,
          signal: interrupt.signal,
          onMethod: (method, done, total) =>
            printError(`[${i + 1}/${files.length}] ${safeName(rel)}: ${method} (${done + 1}/${total})\n`),
        });
        for (const m of result.methods) {
          const at = `[${i + 1}/${files.length}] ${safeName(rel)}: ${m.method}`;
          if (m.error) printError(`${at} failed: ${m.error}\n`);
          if (m.constantMap)
            printError(`${at}'s map is the same everywhere (no evidence for the target): nothing measured\n`);
        }
        if (result.randomizationError)
          printError(
            `[${i + 1}/${files.length}] ${safeName(rel)}: model randomization failed: ${result.randomizationError}\n`,
          );
      } catch (error) {
        if (interrupt.signal.aborted) throw error;
        skip(i, rel, error);
        await save();
        continue;
      }
      results.push(result);
      // Written after every image, so a long run that is stopped keeps what it measured and resumes there.
      await save();
    }
  } finally {
    interrupt.release();
    await model.dispose();
  }
  const table = await save();
  print(
    `${formatTable(table)}\n\nDeletion and insertion follow the ${curveQuantity(model.spec.task, results)}.\n` +
      `Written: ${join(out, 'evaluation.json')}, ${join(out, 'evaluation.html')}\n`,
  );
}

/**
 * evaluate's methods without --methods: gradient, grad-cam and rise, less those the model cannot run, by
 * explain's rule (defaultMethodId: Grad-CAM where the model has a feature map to read); saying which were left
 * out and why, on stderr.
 */
async function defaultMethods(model: Model): Promise<string[]> {
  const gradient = getMethod('gradient').requires.every((c) => model.capabilities.has(c));
  const gradCam = (await defaultMethodId(model)) === 'grad-cam';
  const left = [...(gradient ? [] : ['gradient']), ...(gradCam ? [] : ['grad-cam'])];
  if (left.length > 0)
    printError(
      `sightline: note: ${left.join(' and ')} ${left.length === 1 ? 'is' : 'are'} left out of the default methods: this model offers no ${gradient ? 'feature map to read' : gradCam ? 'input gradients' : 'input gradients or feature map'}; --methods names others.\n`,
    );
  return [...(gradient ? ['gradient'] : []), ...(gradCam ? ['grad-cam'] : []), 'rise'];
}

/**
 * One image, or every image under a folder (absolute paths), and the entries with an image's name under the
 * folder that are not read (paths relative to it, with what they are).
 */
async function listInputs(path: string): Promise<{ files: string[]; passedOver: PassedOver[] }> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch {
    throw invalidArgument('path', 'an existing image or folder', path);
  }
  if (!info.isDirectory()) return { files: [resolve(path)], passedOver: [] };
  const listing = await listImageEntries(resolve(path));
  if (listing.files.length === 0) throw noImages(path);
  return { files: listing.files.map((file) => resolve(path, file)), passedOver: listing.passedOver };
}

function parseMethods(value: string): string[] {
  const ids = value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
  for (const id of ids) {
    try {
      getMethod(id);
    } catch (error) {
      throw new InvalidArgumentError((error as Error).message);
    }
  }
  if (ids.length === 0) throw new InvalidArgumentError('expected at least one method id');
  return ids;
}

function parseMetrics(value: string): MetricName[] {
  const names = value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean)
    .flatMap((n) => METRIC_GROUPS[n] ?? [n]);
  for (const n of names)
    if (!METRICS.includes(n as MetricName))
      throw new InvalidArgumentError(
        `unknown metric '${n}'; expected ${[...METRICS, ...Object.keys(METRIC_GROUPS)].join(', ')}`,
      );
  return [...new Set(names)] as MetricName[];
}
