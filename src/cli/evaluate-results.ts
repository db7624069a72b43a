// evaluate's output folder: evaluation.json and evaluation.html written after every image, and the results of
// an earlier run read back to resume — untrusted, so each image is checked (evaluate/evaluation-check.ts) and
// one that fails is measured again rather than trusted or allowed to stop the run.
import { join } from 'node:path';
import { writeAtomically } from '../audit/output.js';
import { invalidArgument, SightlineError } from '../core/errors.js';
import type { MethodOptions } from '../core/method.js';
import type { ModelTask } from '../core/model.js';
import type { ImageEvaluation, MetricName } from '../evaluate/evaluate.js';
import { checkEvaluation } from '../evaluate/evaluation-check.js';
import { curveQuantity, renderEvaluationHtml, tabulate } from '../evaluate/summary.js';
import { MIB, readRegularFile } from '../io/read-file.js';
import type { ModelHints } from '../models/spec.js';
import { printError, safeName } from './print.js';

/** Largest evaluation.json read back: JSON text past this cannot be held as one string by Node. */
const MAX_RESULTS_BYTES = 500 * MIB;

/** What decides whether earlier results in --out can be kept: everything that changes a number. */
export interface EvaluationSettings {
  readonly model: string;
  readonly hints: ModelHints;
  readonly methods: readonly string[];
  readonly metrics: readonly MetricName[];
  readonly options: Readonly<Record<string, MethodOptions>>;
  readonly curveSteps: number | null;
  readonly sanityBlocks: number | null;
  readonly regions: string | null;
  readonly target?: string;
  readonly reference?: string;
}

/** Hints as written into evaluation.json: header values (API keys) are replaced by '…', names kept. */
export function withoutSecrets(hints: ModelHints): ModelHints {
  const headers = hints.http?.headers;
  if (!headers) return hints;
  return { ...hints, http: { ...hints.http, headers: headers.map((h) => `${h.split(':')[0]}: …`) } };
}

/**
 * The images an earlier run in `out` measured with the same settings; none when there was no run. An image
 * whose entry fails its check is left out with a warning, so this run measures it again.
 */
export async function earlierResults(out: string, settings: EvaluationSettings): Promise<ImageEvaluation[]> {
  const path = join(out, 'evaluation.json');
  const resumeHint = 'pass --restart to start over, or another --out';
  let bytes: Uint8Array;
  try {
    bytes = await readRegularFile(path, {
      maxBytes: MAX_RESULTS_BYTES,
      expected: `the evaluation.json of an earlier run to resume (${resumeHint})`,
      noun: 'the earlier results',
    });
  } catch (error) {
    // No earlier run. Any other failure stops here: starting over would overwrite what it measured.
    if (error instanceof SightlineError && error.details.errno === 'ENOENT') return [];
    throw error;
  }
  let earlier: unknown;
  try {
    earlier = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (cause) {
    throw new SightlineError(
      'IO',
      `Cannot resume from '${path}': it is not valid JSON (${(cause as Error).message}); ${resumeHint}.`,
      { path },
    );
  }
  const o = typeof earlier === 'object' && earlier !== null && !Array.isArray(earlier) ? earlier : {};
  const { settings: theirs, images } = o as { settings?: unknown; images?: unknown };
  if (JSON.stringify(theirs) !== JSON.stringify(settings)) {
    throw invalidArgument(
      'out',
      `a folder without results, or with results of the same settings (pass --restart to replace them, or another --out); '${out}' holds an evaluation with other settings (${JSON.stringify(theirs)}), this run asks for`,
      JSON.stringify(settings),
    );
  }
  if (images === undefined) return [];
  if (!Array.isArray(images))
    throw new SightlineError(
      'IO',
      `Cannot resume from '${path}': its 'images' is not a list; ${resumeHint}.`,
      { path },
    );
  const kept: ImageEvaluation[] = [];
  const seen = new Set<string>();
  for (const [i, entry] of images.entries()) {
    const result = checkEvaluation(entry);
    if ('problem' in result) {
      printError(
        `sightline: warning: ${safeName(path)}: image ${i + 1} is measured again: ${safeName(result.problem)}.\n`,
      );
    } else if (!seen.has(result.evaluation.file)) {
      seen.add(result.evaluation.file);
      kept.push(result.evaluation);
    }
  }
  return kept;
}

/** evaluation.json and evaluation.html for the images measured so far; returns the table. */
export async function writeResults(
  out: string,
  settings: EvaluationSettings,
  task: ModelTask,
  results: ImageEvaluation[],
  skipped: readonly { file: string; reason: string }[],
) {
  const table = tabulate(
    results,
    settings.metrics.filter((m) => m !== 'agreement'),
  );
  // The task says how the curves and AUCs read: probabilities, or a score's raw values.
  const json = {
    model: settings.model,
    task,
    quantity: curveQuantity(task, results),
    settings,
    table,
    images: results,
    skipped,
  };
  // Written whole and renamed, so a run killed mid-write leaves the previous file intact.
  await writeAtomically(join(out, 'evaluation.json'), `${JSON.stringify(json, null, 2)}\n`);
  await writeAtomically(
    join(out, 'evaluation.html'),
    renderEvaluationHtml(table, { model: settings.model, images: results.length, skipped, task, results }),
  );
  return table;
}
