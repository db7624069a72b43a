import { rm } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { auditImages, POINTING_TOLERANCE } from '../audit/audit.js';
import { auditDetections } from '../audit/detect.js';
import {
  type DetectPictures,
  detectMapsProblem,
  renderDetectPictures,
  writeDetectPictures,
} from '../audit/detect-pictures.js';
import { detectGate, detectSummaryWords } from '../audit/detect-summary.js';
import { type DetectTruth, readDetectTruth } from '../audit/detect-truth.js';
import { AuditJournal } from '../audit/journal.js';
import { labelsFromFolders, readLabelCsv } from '../audit/labels.js';
import { isManifestFile, manifestLabels, readManifest } from '../audit/manifest.js';
import { outputFolder } from '../audit/output.js';
import { rowPicturesProblem } from '../audit/pictures.js';
import { readRegions, regionsFor } from '../audit/regions/index.js';
import { lowConfidenceText, predictionWords } from '../audit/report/row-view.js';
import { type RenderedPictures, renderRowPictures, writeRowPictures } from '../audit/row-pictures.js';
import type { AuditConfig, AuditRow, AuditSummary } from '../audit/types.js';
import { VERDICT_WORDS } from '../audit/types.js';
import {
  REPORT_INLINE_MAX_ROWS,
  REPORT_LAYOUTS,
  type ReportLayout,
  reportIsPaged,
  writeReports,
} from '../audit/write.js';
import { SightlineError } from '../core/errors.js';
import type { Model, ModelTask } from '../core/model.js';
import { formatCount, listSome } from '../core/text.js';
import { refuseUnusedTargetParts } from '../explain.js';
import { decodeSource } from '../io/fetch-image.js';
import { listImageEntries, noImages, passedOverError } from '../io/list-images.js';
import { readReferenceFile } from '../io/reference-file.js';
import { getMethod, METHODS } from '../methods/registry.js';
import { findingsLines } from './audit-findings.js';
import { auditItems, labelFor } from './audit-items.js';
import { addQueueOptions, auditOnQueue, refuseLocalOnly } from './audit-queue.js';
import {
  addShortcutOptions,
  type ShortcutFlags,
  shortcutConfig,
  shortcutLine,
  shortcutRowWords,
  shortcutTester,
} from './audit-shortcuts.js';
import { interruptible } from './interrupt.js';
import {
  addModelOptions,
  chosenMethod,
  defaultMethodId,
  defaultMethodNote,
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
import { progressBar } from './progress.js';
import { REFERENCE_HELP } from './target-flags.js';

/** Exit code when --fail-under's gate fails (the audit itself succeeded). */
export const GATE_FAILED_EXIT = 6;

interface AuditFlags extends ModelFlags, ShortcutFlags {
  model: string;
  labels?: string;
  classNames?: string;
  regions?: string;
  out: string;
  concurrency: number;
  failUnder?: number;
  top: number;
  pointingTolerance: number;
  restart?: boolean;
  faithfulness?: boolean;
  reference?: string;
  detections: number;
  /** The detector-only flags the user typed, refused once the model's task is known. */
  detectorFlags?: string[];
  /** Run on a BullMQ queue at this Redis URL instead of here (cli/audit-queue.ts). */
  queue?: string;
  inFlight: number;
  attempts: number;
  reportLayout: ReportLayout;
}

export function auditCommand(): Command {
  const cmd = new Command('audit')
    .description('Explain every image of a folder, check where the model looked, and write a report.')
    .argument(
      '<folder|manifest>',
      'folder of images (searched recursively), or a manifest: a .csv (a file, path or url column; optionally label) or .jsonl ({"file": …, "label": …}) of paths or http(s) URLs',
    )
    .option('-m, --model <ref>', MODEL_REF_HELP, 'default')
    .option(
      '--method <id>',
      `attribution method (${METHODS.map((m) => m.id).join(', ')}; default: Grad-CAM where the model has gradients and a feature map, else RISE; D-RISE for a detector)`,
    )
    .option(
      '--labels <source>',
      "expected labels: 'folders' (each image's first sub-folder names its class) or a CSV file,label; for a multilabel model a label may list several tags, 'dog|leash' (the map explains the first)",
    )
    .option(
      '--regions <file|folder>',
      'where the model should look: COCO JSON, Pascal VOC XML (file or folder), CSV of boxes, or a folder of mask PNGs',
    )
    .option('-o, --out <dir>', 'output folder for report.html, results.jsonl, results.csv', 'sightline-audit')
    .option(
      '--concurrency <n>',
      'images being read and run through the model at once; as many more are drawn and written beside them',
      parsePositiveInt,
      2,
    )
    .option(
      '--fail-under <share>',
      `exit with code ${GATE_FAILED_EXIT} when the share of images with regions that look at the object is below this (0–1); for a detector, of explained detections that found an object`,
      parseShare,
    )
    .option('--top <k>', 'predictions kept per image', parsePositiveInt, 5)
    .option(
      '--pointing-tolerance <px>',
      'pointing game: how close the peak must be to the region',
      parseNumber,
      POINTING_TOLERANCE,
    )
    .option('--restart', 'discard earlier results in --out instead of resuming')
    .option('--faithfulness', 'also measure deletion and insertion AUC per image (slower)')
    .option('--reference <photo|vector.npy>', `${REFERENCE_HELP}, one for every image`)
    .option(
      '--detections <n>',
      'detectors: detections explained per image, highest score first',
      parsePositiveInt,
      5,
    )
    .addOption(
      new Option(
        '--report-layout <layout>',
        `report.html as one file with every picture inside (single), or with its rows and pictures loaded from report-rows/, overlays/ and thumbnails/ beside it (pages); auto: single up to ${REPORT_INLINE_MAX_ROWS} images`,
      )
        .choices(REPORT_LAYOUTS)
        .default('auto'),
    );
  addQueueOptions(cmd);
  addShortcutOptions(cmd);
  addModelOptions(cmd, '--class-names <file>');
  for (const flag of methodOptionFlags()) cmd.addOption(flag);
  return cmd.action(async (folder: string, flags: AuditFlags, command: Command) => {
    flags.detectorFlags = detectorFlagsGiven(command);
    process.exitCode = await runAudit(folder, flags);
  });
}

async function runAudit(folder: string, flags: AuditFlags): Promise<number> {
  if (flags.method) chosenMethod(flags); // an unknown method fails before the model loads
  shortcutConfig(flags); // as does --shortcuts without --regions
  // Loaded first: the default method depends on the model (as in explain), and the journal records the method.
  const model = await loadModelForCli(flags.model, modelHints(flags, flags.classNames));
  try {
    refuseDetectorFlags(flags.detectorFlags ?? [], model.spec.task);
    // Here, before any file is written: auditOnQueue checks again only once the journal is open.
    if (flags.queue)
      refuseLocalOnly('audit', {
        http: modelHints(flags).http,
        ...(model.spec.task === 'detect' ? { detections: flags.detections } : {}),
      });
    return await auditWith(folder, flags, model);
  } finally {
    await model.dispose();
  }
}

async function auditWith(folder: string, flags: AuditFlags, model: Model): Promise<number> {
  // A manifest lists the images (paths from its folder, or URLs); its folder then plays the audited folder.
  const manifest = (await isManifestFile(folder)) ? await readManifest(resolve(folder)) : undefined;
  const root = manifest ? dirname(resolve(folder)) : resolve(folder);
  const out = resolve(flags.out);
  // Without --method, explain's rule: D-RISE for a detector, else Grad-CAM where it can run, else RISE.
  const defaulted = flags.method
    ? undefined
    : model.spec.task === 'detect'
      ? 'd-rise'
      : await defaultMethodId(model);
  const method =
    defaulted === 'd-rise'
      ? getMethod('d-rise')
      : chosenMethod({ ...flags, method: flags.method ?? defaulted });
  const options = methodOptions(method, flags);
  const listing = manifest
    ? { files: manifest.map((e) => e.file), passedOver: [] }
    : await listImageEntries(root, out);
  const sources = new Map(manifest?.map((e) => [e.file, e.source]));
  const sourceOf = (file: string) => sources.get(file) ?? join(root, file);
  // An entry with an image's name that is not a regular file inside the folder still gets a row (an error that
  // says what it is), so nothing the user put in the folder is left out of the results unsaid.
  const passedOver = new Map(listing.passedOver.map((p) => [p.file, p.reason]));
  const files = [...listing.files, ...passedOver.keys()].sort();
  if (files.length === 0) throw noImages(folder);
  const labels =
    flags.labels === undefined
      ? manifestLabels(manifest)
      : flags.labels === 'folders'
        ? labelsFromFolders(files)
        : await readLabelCsv(flags.labels);
  const regions = flags.regions ? await readRegions(flags.regions) : undefined;
  const itemOf = auditItems({ files, passedOver, sourceOf, labels, regions });
  // Every image with regions can lend its background to another's swap, done earlier or not.
  const shortcuts = shortcutTester(flags, model, files.map(itemOf));

  // Paths relative to the audited folder: the reports travel with it and should not show this machine's
  // layout, and the journal's settings then still match when the folder and its files move together.
  const shown = (path: string) => relative(root, path).split(sep).join('/') || '.';
  const modelName = modelLabel(flags.model);
  const config: AuditConfig = {
    model: isAbsolute(modelName) ? shown(modelName) : modelName,
    method: method.id,
    options,
    ...(flags.labels
      ? { labels: flags.labels === 'folders' ? 'folders' : shown(resolve(flags.labels)) }
      : {}),
    ...(flags.regions ? { regions: shown(resolve(flags.regions)) } : {}),
    ...(flags.faithfulness ? { faithfulness: true } : {}),
    ...(flags.reference ? { reference: shown(resolve(flags.reference)) } : {}),
    ...(shortcuts ? { shortcuts: shortcuts.config } : {}),
  };
  // Read before the journal opens, so a reference that cannot be read costs nothing.
  // Its hash goes with it onto the queue, naming the very bytes every worker must read.
  const referenceFile = flags.reference === undefined ? undefined : await readReferenceFile(flags.reference);
  const reference = referenceFile?.reference;
  if (flags.restart) {
    for (const name of ['journal.jsonl', 'overlays', 'thumbnails'])
      await rm(join(out, name), { recursive: true, force: true });
  }
  const journal = await AuditJournal.open(out, config);
  await outputFolder(out, 'overlays');
  await outputFolder(out, 'thumbnails');
  for (const warning of journal.warnings) printError(`sightline: warning: ${warning}\n`);
  const redo = await rowsToRedo(out, files, journal.done);
  const todo = files.filter((f) => !journal.done.has(f) || redo.has(f));
  const already = files.length - todo.length;
  printError(
    `Auditing ${files.length} image${files.length === 1 ? '' : 's'} in ${folder} with ${method.title}` +
      (already > 0 ? ` (resuming: ${already} already done, ${todo.length} to go)` : '') +
      '.\n',
  );
  if (defaulted === 'grad-cam' || defaulted === 'rise')
    printError(`${defaultMethodNote(defaulted, "'sightline explain --list-methods'")}\n`);

  const interrupt = interruptible('stopping after the images in flight; run the same command to resume.');
  const bar = progressBar('Audit');
  const quiet = process.stderr.isTTY;
  let count = already;
  // Messages name the image by its full path; the reports name it from the audited folder. Pictures are
  // written first, then the journal line: a row in the journal always has its files.
  const keepRow = async (row: AuditRow, pictures?: RenderedPictures | DetectPictures) => {
    let stored: AuditRow = row.error
      ? { ...row, error: { ...row.error, message: row.error.message.replaceAll(`${root}${sep}`, '') } }
      : row;
    if (pictures)
      stored = await ('maps' in pictures
        ? writeDetectPictures(out, stored, pictures)
        : writeRowPictures(out, stored, pictures));
    await journal.append(stored);
    count++;
    if (!quiet) printError(`[${count}/${files.length}] ${describeRow(stored)}\n`);
  };
  try {
    refuseOtherTask(out, journal.done, model.spec.task);
    refuseUnusedTargetParts(model.spec.task, false, reference !== undefined);
    if (model.spec.task === 'detect') {
      if (labels)
        throw new SightlineError(
          'INVALID_ARGUMENT',
          "A detector's audit reads each object's class from --regions (a COCO file's categories); --labels names one class per image and is not used.",
        );
      const truth = flags.regions ? await readDetectTruth(flags.regions) : undefined;
      const objectsOf = truth
        ? (file: string) => (regionsFor(truth, file, files) as DetectTruth | undefined)?.objects ?? []
        : undefined;
      if (flags.queue)
        await auditOnQueue(flags.queue, flags, {
          files: todo,
          source: sourceOf,
          passedOver,
          method,
          options,
          task: 'detect',
          label: () => undefined,
          regions: () => undefined,
          objects: objectsOf,
          signal: interrupt.signal,
          keepRow,
        });
      else
        await auditDetections(
          todo.map((file) => ({
            file,
            load: async () => {
              const reason = passedOver.get(file);
              if (reason === undefined) return decodeSource(sourceOf(file), file);
              throw passedOverError(file, reason);
            },
            objects: objectsOf && (async () => objectsOf(file)),
          })),
          {
            model,
            method,
            options,
            detections: flags.detections,
            concurrency: flags.concurrency,
            signal: interrupt.signal,
            onProgress: bar.update,
            async onRow(row, result) {
              await keepRow(row, result ? await renderDetectPictures(row, result, method.title) : undefined);
            },
          },
        );
    } else {
      const items = todo.map(itemOf);
      if (flags.queue)
        await auditOnQueue(flags.queue, flags, {
          files: todo,
          source: sourceOf,
          passedOver,
          method,
          options,
          task: model.spec.task ?? 'classify',
          ...(flags.reference && referenceFile
            ? { reference: { path: resolve(flags.reference), sha256: referenceFile.sha256 } }
            : {}),
          label: (file) => (labels ? labelFor(labels, file) : undefined),
          regions: (file) => (regions ? regionsFor(regions, file, files) : undefined),
          signal: interrupt.signal,
          keepRow,
          ...(shortcuts ? { shortcuts } : {}),
        });
      else
        await auditImages(items, {
          model,
          method,
          options,
          topK: flags.top,
          tolerance: flags.pointingTolerance,
          concurrency: flags.concurrency,
          faithfulness: flags.faithfulness,
          reference,
          ...(shortcuts ? { shortcuts: (input) => shortcuts.tester.test(input) } : {}),
          signal: interrupt.signal,
          onProgress: bar.update,
          async onRow(row, result) {
            const pictures = result ? await renderRowPictures(result, row, method.title) : undefined;
            await keepRow(row, pictures);
          },
        });
    }
  } finally {
    bar.stop();
    interrupt.release();
    await journal.close();
  }

  const rows = files.map((f) => journal.done.get(f)).filter((r): r is AuditRow => r !== undefined);
  const summary = await writeReports(
    out,
    rows,
    config,
    (warning) => printError(`sightline: warning: ${warning}\n`),
    { layout: flags.reportLayout },
  );
  // An image with regions whose map found no evidence for the class does not look at the object either.
  const withRegion = rows.filter((r) => r.region || (r.noEvidence && r.regionGiven));
  const onObject = withRegion.filter((r) => r.region?.verdict === 'object').length;
  const errors = rows.filter((r) => r.status === 'error').length;
  const noEvidence =
    summary.noEvidence > 0
      ? ` ${summary.noEvidence} found no evidence for the class (the map is zero everywhere).`
      : '';
  print(
    `Audited ${rows.length} images (${errors} error${errors === 1 ? '' : 's'}).` +
      accuracyWords(summary) +
      (withRegion.length > 0
        ? ` ${onObject} of ${withRegion.length} with regions look at the object, ${summary.verdicts.partly} partly outside, ${summary.verdicts.background} at the background.`
        : '') +
      noEvidence +
      shortcutLine(summary) +
      (summary.detect ? ` ${detectSummaryWords(summary.detect)}` : '') +
      `\nReport: ${join(out, 'report.html')} ${reportIsPaged(flags.reportLayout, rows.length) ? '(its rows in report-rows/ beside it; also' : '(also'} results.jsonl, results.csv)\n`,
  );
  print(findingsLines(summary.findings));
  if (flags.failUnder !== undefined) {
    // A detector's gate counts its detections that found an object (detect-summary.ts detectGate).
    const gate = summary.detect ? detectGate(summary.detect) : undefined;
    const share = gate?.share ?? (withRegion.length > 0 ? onObject / withRegion.length : 0);
    if (share < flags.failUnder) {
      const words = gate?.words ?? `only ${(share * 100).toFixed(1)}% of images look at the object`;
      printError(`sightline: ${words}, under --fail-under ${(flags.failUnder * 100).toFixed(1)}%.\n`);
      return GATE_FAILED_EXIT;
    }
  }
  return 0;
}

/**
 * The journal's settings do not name the task (it comes from the model, or --task, after they are read); rows
 * of another task must not be mixed in, as their predictions read differently (probabilities against scores).
 */
function refuseOtherTask(out: string, done: ReadonlyMap<string, AuditRow>, task: ModelTask): void {
  for (const row of done.values()) {
    if (row.status !== 'ok' || (row.task ?? 'classify') === task) continue;
    throw new SightlineError(
      'INVALID_ARGUMENT',
      `The folder '${out}' holds results of a ${row.task ?? 'classify'} model ('${safeName(row.file)}'); this run's model is read as ${task}. ` +
        'Pass another --out, or --restart to discard the earlier results.',
      { out, task: row.task ?? 'classify' },
    );
  }
}

/** The summary's accuracy in the task's words: per tag for a tagger; none for a scorer (it takes no labels). */
function accuracyWords(summary: AuditSummary): string {
  if (summary.accuracy === null) return '';
  const share = (n: number) => `${(n * 100).toFixed(1)}%`;
  if (summary.task !== 'multilabel') return ` Accuracy ${share(summary.accuracy)}.`;
  const tags = summary.tags.map((t) => `${safeName(t.label)} ${t.present} of ${t.images}`).join(', ');
  return ` Every labelled tag present in ${share(summary.accuracy)} of labelled images; per tag: ${tags}.`;
}

function describeRow(row: AuditRow): string {
  const file = safeName(row.file);
  // The message quotes the file's path, which may hold a line feed too.
  if (row.status === 'error') return `${file}: error: ${safeName(row.error?.message ?? '')}`;
  const verdict = row.noEvidence
    ? ', no evidence for the class (the map is zero everywhere)'
    : row.region
      ? `, ${VERDICT_WORDS[row.region.verdict]} (${Math.round(row.region.share * 100)}% inside)`
      : '';
  const low = row.lowConfidence ? `; note: ${safeName(lowConfidenceText(row))}` : '';
  return `${file}: ${safeName(predictionWords(row))}${verdict}${low}${shortcutRowWords(row)}`;
}

/**
 * Journal rows of this folder's images whose pictures cannot be used (deleted since, or named outside `out` by
 * an edited journal): redone, so the report shows them, after one warning that says which.
 */
async function rowsToRedo(
  out: string,
  files: readonly string[],
  done: ReadonlyMap<string, AuditRow>,
): Promise<Set<string>> {
  const problems: string[] = [];
  const redo = new Set<string>();
  for (const file of files) {
    const row = done.get(file);
    if (!row) continue;
    // Every ok row this command writes has both pictures; one without was edited.
    const problem =
      row.status === 'ok' && row.overlay === undefined && row.thumbnail === undefined
        ? 'the journal names no pictures'
        : ((await rowPicturesProblem(out, row)) ?? (await detectMapsProblem(out, row)));
    if (problem === undefined) continue;
    redo.add(file);
    problems.push(`${safeName(file)} (${problem})`);
  }
  if (redo.size > 0) {
    printError(
      `sightline: warning: the pictures of ${formatCount(redo.size)} image${redo.size === 1 ? '' : 's'} done ` +
        `earlier cannot be used: ${listSome(problems, 3, '; ')}; ${redo.size === 1 ? 'it is' : 'they are'} redone.\n`,
    );
  }
  return redo;
}

function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError(`expected a whole number ≥ 1, got '${value}'`);
  return n;
}

function parseShare(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !(n >= 0 && n <= 1))
    throw new InvalidArgumentError(`expected a share from 0 to 1, got '${value}'`);
  return n;
}
