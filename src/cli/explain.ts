import { writeFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { Command, Option } from 'commander';
import { lowConfidence, lowConfidenceCaption, lowConfidenceWords } from '../core/confidence.js';
import { invalidArgument, SightlineError } from '../core/errors.js';
import type { ModelSpec } from '../core/model.js';
import { isHttpUrl } from '../core/url.js';
import {
  type ExplainedTarget,
  type Explanation,
  explain,
  labelOf,
  type Prediction,
  refuseUnusedTargetParts,
} from '../explain.js';
import { decodeImage } from '../io/decode.js';
import { writeNpy } from '../io/npy-file.js';
import { getMethod, METHODS } from '../methods/registry.js';
import { COLORMAP_NAMES, type ColormapName, defaultColormap } from '../render/colormaps.js';
import { flatMapWords, NORMALIZE_MODES, type NormalizeMode } from '../render/normalize.js';
import { renderOverlay } from '../render/overlay.js';
import { encodePng, renderOverlayPng } from '../render/png.js';
import { runExplainDetect } from './explain-detect.js';
import { interruptible } from './interrupt.js';
import { listLayers } from './layers.js';
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
import { print, printError, printJson, safeName } from './print.js';
import { progressBar } from './progress.js';
import { REFERENCE_HELP, REGION_HELP, readReference, readRegion } from './target-flags.js';

interface ExplainFlags extends ModelFlags {
  model: string;
  method: string;
  target: string;
  top: number;
  out?: string;
  saveMap?: string;
  json?: boolean;
  listMethods?: boolean;
  listLayers?: boolean;
  colormap?: ColormapName;
  mode?: NormalizeMode;
  opacity: number;
  outlineTop: number;
  outlineSmoothing: number;
  legend: boolean;
  layer?: string;
  baselineImage?: string;
  region?: string;
  reference?: string;
  detections: number;
}

export function explainCommand(): Command {
  const cmd = new Command('explain')
    .description('Predict a photo and draw where the model looked for one class.')
    .argument('[image]', 'photo to explain (JPEG, PNG, WebP, GIF, TIFF, AVIF)')
    .option('-m, --model <ref>', MODEL_REF_HELP, 'default')
    .addOption(
      new Option(
        '--method <id>',
        'attribution method (default: grad-cam where the model has gradients and a feature map, else rise)',
      ).choices(METHODS.map((m) => m.id)),
    )
    .option(
      '-t, --target <class>',
      "'top', a class index, or a label (or a unique part of one); detectors: a detection's number in the list, or a label (its best detection)",
      'top',
    )
    .option(
      '--detections <k>',
      'detectors: explain the top k detections, one overlay each (see --target for one)',
      (v) => parseNumber(v),
      5,
    )
    .option('--top <k>', 'how many predictions to print', (v) => parseNumber(v), 5)
    .option('-o, --out <file.png>', 'overlay PNG (default: <image>-<method>.png in the current folder)')
    .option(
      '--save-map <file.npy>',
      'also write the raw map as float32 .npy [height, width] at the photo size',
    )
    .option('--json', 'print one JSON object instead of text')
    .option('--list-methods', 'list the methods and exit')
    .option(
      '--list-layers',
      "list the model's layers for --layer (kind: map [N,C,h,w], tokens [N,T,C], channels-last [N,h,w,C]; dims; grid), * marking the default, and exit",
    )
    .addOption(
      new Option('--colormap <name>', 'colour scale (default: turbo; coolwarm for --mode signed)').choices([
        ...COLORMAP_NAMES,
      ]),
    )
    .addOption(
      new Option('--mode <mode>', 'which values to show (default: positive for signed maps)').choices([
        ...NORMALIZE_MODES,
      ]),
    )
    .option('--opacity <0..1>', 'heat map opacity over the photo', parseNumber, 0.5)
    .option(
      '--outline-top <fraction>',
      'outline the most salient fraction of pixels (0 = none)',
      parseNumber,
      0.2,
    )
    .option(
      '--outline-smoothing <fraction>',
      'trace the outline on the map blurred by this fraction of the shorter side',
      parseNumber,
      0.01,
    )
    .option('--no-legend', 'omit the legend bar under the overlay')
    .option(
      '--layer <tensor>',
      "layer the CAM methods read (default: a CNN's last feature map; a ViT's last block's normalised input; see --list-layers)",
    )
    .addOption(
      new Option(
        '--noise-tunnel <kind>',
        'wrap the method in SmoothGrad or VarGrad (see --samples, --noise)',
      ).choices(['smoothgrad', 'vargrad']),
    )
    .option('--baseline-image <file>', "reference photo for integrated gradients' --baseline-type image")
    .option('--region <x0,y0,x1,y1|mask.png>', REGION_HELP)
    .option('--reference <photo|vector.npy>', REFERENCE_HELP);
  addModelOptions(cmd);
  for (const flag of methodOptionFlags()) cmd.addOption(flag);
  return cmd.action(async (image: string | undefined, flags: ExplainFlags, command: Command) => {
    if (flags.listMethods) return listMethods(flags.json === true);
    if (flags.listLayers) return listLayers(flags.model, flags);
    if (!image) throw invalidArgument('image', 'the path of a photo to explain', image);
    await runExplain(image, flags, detectorFlagsGiven(command)).catch((error: unknown) => {
      // The engine says which output went wrong; the user also needs to know which model it was (shown as
      // reports show it: a URL without credentials or query values), unless the message already says.
      const shown = isHttpUrl(flags.model) ? modelLabel(flags.model) : flags.model;
      if (error instanceof SightlineError && error.code === 'MODEL_OUTPUT' && !error.message.includes(shown))
        throw new SightlineError(error.code, `'${shown}': ${error.message}`, error.details, {
          cause: error,
        });
      throw error;
    });
  });
}

function listMethods(json: boolean): void {
  if (json) {
    const out = METHODS.map((m) => ({
      id: m.id,
      title: m.title,
      description: m.description,
      requires: m.requires,
      defaults: m.defaults,
    }));
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return;
  }
  const width = Math.max(...METHODS.map((m) => m.id.length));
  for (const m of METHODS) process.stdout.write(`${m.id.padEnd(width)}  ${m.description}\n`);
}

async function runExplain(image: string, flags: ExplainFlags, detectorFlags: string[]): Promise<void> {
  if (flags.method) chosenMethod(flags); // an unknown method fails before the model loads
  const hints = modelHints(flags);
  const interrupt = interruptible('stopping after the current batch (Ctrl-C again to quit now)…');
  const photo = await decodeImage(image);
  const model = await loadModelForCli(flags.model, hints);
  try {
    refuseDetectorFlags(detectorFlags, model.spec.task);
  } catch (error) {
    interrupt.release();
    await model.dispose();
    throw error;
  }
  if (model.spec.task === 'detect') {
    try {
      refuseUnusedTargetParts('detect', flags.region !== undefined, flags.reference !== undefined);
      // D-RISE is a detector's default, whatever the model's capabilities (a box target needs no CAM layer).
      const chosen = flags.method ? chosenMethod(flags) : getMethod('d-rise');
      return await runExplainDetect({
        image,
        photo,
        model,
        method: chosen,
        options: methodOptions(chosen, flags),
        target: flags.target,
        detections: flags.detections,
        out: flags.out,
        saveMap: flags.saveMap,
        json: flags.json === true,
        layer: flags.layer,
        look: {
          colormap: flags.colormap,
          mode: flags.mode,
          opacity: flags.opacity,
          outlineTop: flags.outlineTop,
          outlineSmoothing: flags.outlineSmoothing,
          legend: flags.legend,
        },
        signal: interrupt.signal,
      });
    } finally {
      interrupt.release();
      await model.dispose();
    }
  }
  let bar: ReturnType<typeof progressBar> | undefined;
  try {
    const defaulted = flags.method === undefined;
    const method = chosenMethod({ ...flags, method: flags.method ?? (await defaultMethodId(model)) });
    const options = methodOptions(method, flags);
    bar = progressBar(`${method.title}`);
    const result = await explain({
      model,
      image: photo,
      method,
      target: flags.target,
      options,
      layer: flags.layer,
      baselineImage: flags.baselineImage ? await decodeImage(flags.baselineImage) : undefined,
      region: flags.region === undefined ? undefined : await readRegion(flags.region, photo),
      reference: flags.reference === undefined ? undefined : await readReference(flags.reference),
      topK: flags.top,
      signal: interrupt.signal,
      onProgress: bar.update,
    });
    bar.stop();
    assertFiniteMap(result, method.title);
    warnIfIncomplete(result.map.details);
    const out = flags.out ?? `${basename(image, extname(image))}-${method.id}.png`;
    const mode = flags.mode ?? (result.map.signed ? 'positive' : 'absolute');
    const look = {
      colormap: flags.colormap ?? defaultColormap(mode),
      mode,
      opacity: flags.opacity,
      outlineTop: flags.outlineTop,
      outlineSmoothing: flags.outlineSmoothing,
    } as const;
    // A target the model barely believes in is said so beside the map: on the overlay, in text and in JSON.
    // A segment or similarity target is a sum of scores or a cosine, not a probability that can be low.
    const low = result.target.description
      ? undefined
      : lowConfidence(model.spec, result.scores.data, result.target.index, (i) => labelOf(model, i));
    // A map that shows no place above another is still written (the user asked for it), but said so.
    const flat = flatMapWords(
      result.map.data,
      { mode },
      result.target.label,
      '--mode negative shows what lowered it',
    );
    const png = flags.legend
      ? await renderOverlayPng(photo, result.map.data, {
          ...look,
          legend: {
            method: method.title,
            target: result.target.label,
            ...(low ? { note: lowConfidenceCaption(low) } : {}),
          },
        })
      : await encodePng(renderOverlay(photo, result.map.data, look));
    await writeFile(out, png);
    if (flags.saveMap) await writeNpy(flags.saveMap, result.map.data, [result.map.height, result.map.width]);
    if (flags.json) {
      const payload = {
        task: model.spec.task,
        predictions: result.predictions,
        target: result.target.description
          ? { label: result.target.label, ...result.target.description }
          : result.target,
        ...(low
          ? {
              lowConfidence: { ...low, note: lowConfidenceWords(low, result.target.label, noun(model.spec)) },
            }
          : {}),
        method: result.method,
        options: result.options,
        ...(flat ? { flatMap: flat } : {}),
        ...(result.map.details ? { details: result.map.details } : {}),
        image: { path: image, width: photo.width, height: photo.height },
        output: { overlay: out, map: flags.saveMap ?? null },
      };
      printJson(payload);
    } else {
      printPredictions(image, result.predictions, model.spec, result.target);
      if (flags.task === undefined && maybeEmbedding(model.spec))
        printError(
          `sightline: note: the model's ${model.spec.outputShape?.[0]} outputs have no labels and no final Softmax; if they are an embedding, pass --task embed --reference other.jpg (or a .npy vector) to explain a similarity.\n`,
        );
      print(`${method.title} map for '${safeName(result.target.label)}' written to ${safeName(out)}\n`);
      if (defaulted) print(`${defaultMethodNote(method.id)}\n`);
      if (low) print(`Note: ${safeName(lowConfidenceWords(low, result.target.label, noun(model.spec)))}\n`);
      if (flags.saveMap)
        print(`Raw map [${photo.height}, ${photo.width}] written to ${safeName(flags.saveMap)}\n`);
    }
    if (flat) printError(`sightline: warning: ${safeName(flat)}\n`);
  } finally {
    bar?.stop();
    interrupt.release();
    await model.dispose();
  }
}

const noun = (spec: ModelSpec) => (spec.task === 'multilabel' ? 'tag' : 'class');

/** A tag is reported as present when its own sigmoid probability is over this (each tag is a yes/no). */
const TAG_THRESHOLD = 0.5;

const percent = (p: number) => (p >= 0.0005 ? `${(p * 100).toFixed(1)}%` : '<0.1%');

/**
 * The predictions in the task's words: classes ranked, tags over the threshold, scores as numbers, a
 * segmenter's classes by their share of the pixels, an embedding's similarity to the reference.
 */
function printPredictions(
  image: string,
  predictions: readonly Prediction[],
  spec: ModelSpec,
  explained: ExplainedTarget,
): void {
  const name = safeName(image);
  const target = explained.description;
  if (target?.kind === 'segment') {
    const shares = predictions.map((p) => `${safeName(p.label)} (${p.index}) ${percent(p.score)}`);
    print(
      `share of the ${target.gridWidth} × ${target.gridHeight} output pixels for ${name}: ${shares.join(', ')}\n`,
    );
    const where = target.region === 'class pixels' ? 'its own' : `the ${target.region}'s`;
    const chosen = target.passedOver
      ? ` (the largest class besides '${safeName(target.passedOver.label)}' (${target.passedOver.index}); --target names another)`
      : '';
    print(
      `explaining '${safeName(explained.label)}' (${target.class})${chosen}: its scores summed over ${where} ${target.pixels} output pixels\n`,
    );
    return;
  }
  if (target?.kind === 'similarity') {
    print(
      `embedding of ${target.dimensions} numbers for ${name}; cosine similarity to the reference ${target.cosine.toFixed(4)}\n`,
    );
    return;
  }
  if (spec.task === 'score') {
    for (const p of predictions) {
      const label = spec.labels[p.index] !== undefined ? ` '${safeName(p.label)}'` : '';
      const index = predictions.length > 1 || p.index > 0 ? ` (${p.index})` : '';
      print(`score${label}${index} ${p.score.toPrecision(4)} for ${name}\n`);
    }
    return;
  }
  if (spec.task === 'multilabel') {
    const tags = predictions.filter((p) => p.score > TAG_THRESHOLD);
    const list = (ps: readonly Prediction[]) =>
      ps.map((p) => `${safeName(p.label)} (${p.index}) ${percent(p.score)}`).join(', ');
    print(
      tags.length > 0
        ? `tags over ${TAG_THRESHOLD * 100}% for ${name}: ${list(tags)}\n`
        : `no tag over ${TAG_THRESHOLD * 100}% for ${name}; highest: ${list(predictions.slice(0, 1))}\n`,
    );
    return;
  }
  print(`Top ${predictions.length} predictions for ${name}:\n`);
  for (const p of predictions)
    print(`  ${percent(p.score).padStart(6)}  ${safeName(p.label)} (${p.index})\n`);
}

/** An unlabelled classifier of raw outputs, many of them: what an embedding model looks like unasked. */
function maybeEmbedding(spec: ModelSpec): boolean {
  const width = spec.outputShape?.length === 1 ? spec.outputShape[0] : 0;
  return spec.task === 'classify' && spec.outputs === 'logits' && spec.labels.length === 0 && width >= 64;
}

/**
 * A map with NaN or infinite values (a gradient through sqrt or log at 0, say) would be drawn as garbage or
 * blamed on the user; it is the model's output, so it is reported as such.
 */
function assertFiniteMap(result: Explanation, method: string): void {
  const data = result.map.data;
  let bad = 0;
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) bad++;
  if (bad === 0) return;
  throw new SightlineError(
    'MODEL_OUTPUT',
    `The ${method} map for '${result.target.label}' has ${bad} NaN or infinite values among its ` +
      `${data.length} pixels; the model's scores are not differentiable or not finite near this image ` +
      '(sqrt or log at 0, a division by zero); try a black-box method such as --method rise.',
    { bad },
  );
}

/**
 * Attributions with a completeness property (integrated gradients, DeepLIFT, FullGrad, LRP: no baseline, the score
 * itself) should add up to the score change; say so, and why it can be, when they are far off.
 */
function warnIfIncomplete(details: Readonly<Record<string, number>> | undefined): void {
  if (!details || details.relativeDelta === undefined || details.relativeDelta <= 0.05) return;
  const change = details.scoreAtInput - (details.scoreAtBaseline ?? 0);
  const why =
    details.relevanceSum !== undefined
      ? "LRP conserves relevance only where the rules leave biases out (the layers' biases take their share; --lrp-rule zplus ignores them)"
      : details.steps === undefined
        ? 'the model has operations this method is not exact for (see the methods table in the README)'
        : 'the path integral has not converged: raise --steps, or pass --tolerance 0.01 --steps 300 to refine it adaptively';
  process.stderr.write(
    `sightline: warning: the attributions sum to ${(change + details.completenessDelta).toFixed(3)} but the score changed by ${change.toFixed(3)} (${(details.relativeDelta * 100).toFixed(1)}% off); ${why}.\n`,
  );
}
