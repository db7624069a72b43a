// Options more than one command takes: the model's preprocessing hints and the methods' own options, all
// generated from one place so every command documents them the same way.

import { resolve } from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { invalidArgument, SightlineError } from '../core/errors.js';
import type { OptionSpec, OptionValue } from '../core/method.js';
import { MAX_INPUT_SIDE, MODEL_TASKS, type Model, type ModelTask } from '../core/model.js';
import { isHttpUrl } from '../core/url.js';
import { displayUrl } from '../engines/http/index.js';
import { noiseTunnel } from '../methods/gradient/noise-tunnel.js';
import { type AnyMethod, getMethod, METHODS } from '../methods/registry.js';
import { DETECT_FORMATS } from '../models/detect-format.js';
import { loadModel } from '../models/load.js';
import type { ModelHints } from '../models/spec.js';
import { printError } from './print.js';

/** What `--model` accepts, the same words in every command. */
export const MODEL_REF_HELP =
  "'default' (ImageNet InceptionV3), a .onnx / .tflite file, a TF.js model (folder or model.json), a Hugging Face folder (config.json, preprocessor_config.json, onnx/model.onnx), a timm folder (config.json, model.onnx) or an http(s) URL";

const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/**
 * Every method option, once, with the methods that take it: flags are generated from the registry. Methods
 * that share an option name but describe it differently (SmoothGrad's noisy copies, LIME's perturbed images)
 * each keep their own words in the help.
 */
export function methodOptionFlags(): Option[] {
  const seen = new Map<string, { spec: OptionSpec; byDescription: Map<string, string[]> }>();
  for (const m of METHODS) {
    for (const [name, spec] of Object.entries(m.options) as [string, OptionSpec][]) {
      const entry = seen.get(name) ?? { spec, byDescription: new Map<string, string[]>() };
      const methods = entry.byDescription.get(spec.description) ?? [];
      methods.push(m.id);
      entry.byDescription.set(spec.description, methods);
      seen.set(name, entry);
    }
  }
  return [...seen].map(([name, { spec, byDescription }]) => {
    const help = [...byDescription]
      .map(([description, methods]) => `${description} (${methods.join(', ')})`)
      .join('; ');
    const option = new Option(`--${kebab(name)} <${spec.type === 'choice' ? 'name' : 'n'}>`, help);
    return spec.type === 'choice' ? option.choices([...(spec.choices ?? [])]) : option.argParser(parseNumber);
  });
}

export function parseNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n))
    throw new InvalidArgumentError(`expected a number, got '${value}'`);
  return n;
}

export function parseList(value: string): number[] {
  return value.split(',').map((v) => parseNumber(v));
}

export function parseSize(value: string): [number, number] {
  const m = /^(\d+)(?:x(\d+))?$/.exec(value.trim());
  const w = Number(m?.[1]);
  const h = m?.[2] ? Number(m[2]) : w;
  if (!m || [w, h].some((n) => n < 1 || n > MAX_INPUT_SIDE))
    throw new InvalidArgumentError(
      `expected a size like 224 or 224x224, each side from 1 to ${MAX_INPUT_SIDE}, got '${value}'`,
    );
  return [w, h];
}

/** The flags addModelOptions and methodOptionFlags add, as commander parses them. */
export interface ModelFlags {
  /** Absent in explain when not given: the default depends on the model (defaultMethodId). */
  method?: string;
  inputSize?: [number, number];
  mean?: number[];
  std?: number[];
  layout?: 'NCHW' | 'NHWC';
  labels?: string;
  bgr?: boolean;
  resize?: 'squash' | 'center-crop' | 'letterbox';
  detectFormat?: string;
  boxFormat?: string;
  scoreThreshold?: number;
  iouThreshold?: number;
  outputs?: 'logits' | 'probabilities';
  task?: ModelTask;
  modelVariant?: string;
  maxBatch?: number;
  noiseTunnel?: 'smoothgrad' | 'vargrad';
  httpInput?: 'png' | 'float32';
  requestBatch?: number;
  requestConcurrency?: number;
  requestTimeout?: number;
  requestRetries?: number;
  requestBudget?: number;
  header?: string[];
  apiKeyEnv?: string;
  apiKeyHeader?: string;
  [option: string]: unknown;
}

/** What the model file may not say: input size, normalisation, layout, labels and so on. */
export function addModelOptions(cmd: Command, labelsFlag = '--labels <file>'): Command {
  return cmd
    .option('--input-size <WxH>', 'model input size, when the file does not fix it', parseSize)
    .option('--mean <r,g,b>', 'normalisation mean in [0,1] pixel units (default ImageNet)', parseList)
    .option('--std <r,g,b>', 'normalisation std in [0,1] pixel units (default ImageNet)', parseList)
    .addOption(
      new Option('--layout <layout>', 'input layout (default: read from the model)').choices([
        'NCHW',
        'NHWC',
      ]),
    )
    .option(labelsFlag, 'class names: a text file (one per line) or JSON')
    .option('--bgr', 'the model expects BGR channel order')
    .addOption(
      new Option(
        '--resize <how>',
        'fit the photo to the input (default: squash; letterbox, keeping the aspect on gray padding, for detectors)',
      ).choices(['squash', 'center-crop', 'letterbox']),
    )
    .addOption(
      new Option(
        '--detect-format <format>',
        "detectors: the outputs' layout (default: read from their names and shapes; implies --task detect)",
      ).choices([...DETECT_FORMATS]),
    )
    .option(
      '--box-format <convention>',
      "detectors: how boxes are written, overriding the format's: xyxy, xywh, cxcywh or yxyx, optionally -normalized (0–1)",
    )
    .option(
      '--score-threshold <0..1>',
      'detectors: keep detections scoring above this (default 0.25)',
      parseNumber,
    )
    .option(
      '--iou-threshold <0..1>',
      'detectors: class-wise NMS drops a box overlapping a better one of its class above this IoU (default 0.7)',
      parseNumber,
    )
    .addOption(
      new Option('--outputs <kind>', 'whether scores are probabilities or logits (default: guessed)').choices(
        ['logits', 'probabilities'],
      ),
    )
    .addOption(
      new Option(
        '--task <task>',
        'what the outputs mean: one class of K, independent sigmoid tags, raw scores, per-pixel classes [N, C, h, w], an embedding, or object detections (default: read from the graph: outputs named boxes and scores or a rank-3 output are detect, a rank-4 output is segment, a final Sigmoid over several outputs multilabel, one output a score, else classify; embed is only ever asked for)',
      ).choices([...MODEL_TASKS]),
    )
    .option(
      '--model-variant <name>',
      'Hugging Face folders: load onnx/model_<name>.onnx (e.g. quantized) instead of onnx/model.onnx',
    )
    .option('--max-batch <n>', 'largest batch per model call', parseNumber)
    .addOption(
      new Option(
        '--http-input <format>',
        'HTTP models: send PNG pixels or the float32 tensor (default png)',
      ).choices(['png', 'float32']),
    )
    .option('--request-batch <n>', 'HTTP models: images per request (default 8)', parseNumber)
    .option('--request-concurrency <n>', 'HTTP models: requests in flight at once (default 4)', parseNumber)
    .option('--request-timeout <ms>', 'HTTP models: longest wait for one answer (default 30000)', parseNumber)
    .option(
      '--request-retries <n>',
      'HTTP models: tries after a 429, 5xx, timeout or network error (default 3)',
      parseNumber,
    )
    .option(
      '--request-budget <n>',
      'HTTP models: most requests to send in all, retries included',
      parseNumber,
    )
    .option(
      '--header <"Name: value">',
      'HTTP models: a header for every request (repeatable; values are never printed)',
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option('--api-key-env <VAR>', "HTTP models: send this variable's value as 'Authorization: Bearer <key>'")
    .option('--api-key-header <name>', 'HTTP models: send the key raw in this header instead');
}

export function modelHints(flags: ModelFlags, labelsPath = flags.labels): ModelHints {
  return {
    width: flags.inputSize?.[0],
    height: flags.inputSize?.[1],
    mean: flags.mean,
    std: flags.std,
    layout: flags.layout,
    labelsPath,
    channelOrder: flags.bgr ? 'BGR' : undefined,
    resize: flags.resize,
    detectFormat: flags.detectFormat,
    boxFormat: flags.boxFormat,
    scoreThreshold: flags.scoreThreshold,
    iouThreshold: flags.iouThreshold,
    outputs: flags.outputs,
    task: flags.task,
    variant: flags.modelVariant,
    maxBatch: flags.maxBatch,
    http: httpHints(flags),
  };
}

/** The HTTP flags, or nothing when none was given (other engines ignore them either way). */
function httpHints(flags: ModelFlags): ModelHints['http'] {
  const http = {
    input: flags.httpInput,
    requestBatch: flags.requestBatch,
    concurrency: flags.requestConcurrency,
    timeoutMs: flags.requestTimeout,
    retries: flags.requestRetries,
    budget: flags.requestBudget,
    headers: flags.header,
    apiKeyEnv: flags.apiKeyEnv,
    apiKeyHeader: flags.apiKeyHeader,
  };
  return Object.values(http).some((v) => v !== undefined) ? http : undefined;
}

/** The method the flags name, wrapped in a noise tunnel when asked. */
export function chosenMethod(flags: ModelFlags): AnyMethod {
  if (!flags.method) throw invalidArgument('method', 'a method id (see --list-methods)', flags.method);
  const base = getMethod(flags.method);
  return flags.noiseTunnel ? noiseTunnel(base, flags.noiseTunnel) : base;
}

/** The method's own options that were given as flags. */
export function methodOptions(method: AnyMethod, flags: ModelFlags): Record<string, OptionValue> {
  const options: Record<string, OptionValue> = {};
  for (const name of Object.keys(method.options)) {
    if (flags[name] !== undefined) options[name] = flags[name] as OptionValue;
  }
  return options;
}

/**
 * explain's method when --method is absent: Grad-CAM (one forward and a short backward pass, seconds) where
 * the model has gradients and a feature map to read, else RISE, which needs nothing but predictions.
 */
export async function defaultMethodId(model: Model): Promise<'grad-cam' | 'rise'> {
  if (!model.capabilities.has('layers') || !model.layers) return 'rise';
  try {
    await model.layers();
    return 'grad-cam';
  } catch (error) {
    // No readable feature map (an MLP, say): RISE still explains it.
    if (error instanceof SightlineError) return 'rise';
    throw error;
  }
}

/**
 * Which method ran when none was asked for, and how to ask for another: one line. `list` is how the command
 * lists the methods (audit has no --list-methods of its own).
 */
export function defaultMethodNote(id: string, list = '--list-methods'): string {
  return id === 'grad-cam'
    ? `Grad-CAM is the default for models with gradients; --method rise for RISE (black-box, slower), ${list} for all.`
    : `RISE is the default for models without gradients or feature maps; ${list} for the others.`;
}

/** loadModel, then what the model says a user should know (e.g. why it runs predict-only), on stderr. */
export async function loadModelForCli(ref: string, hints: ModelHints): Promise<Model> {
  const model = await loadModel(ref, hints);
  for (const note of model.notes ?? []) printError(`sightline: note: ${note}\n`);
  return model;
}

/**
 * How a --model reference is written into results and reports: 'default', an absolute path, or a URL without
 * credentials or query values (an API key passed in a query string must not land in a report).
 */
export function modelLabel(ref: string): string {
  if (ref === 'default') return ref;
  return isHttpUrl(ref) ? displayUrl(ref) : resolve(ref);
}

/** The flags only a detector reads: commander's key and the flag as typed. */
const DETECTOR_FLAGS = [
  ['detectFormat', '--detect-format'],
  ['boxFormat', '--box-format'],
  ['scoreThreshold', '--score-threshold'],
  ['iouThreshold', '--iou-threshold'],
  ['detections', '--detections'],
] as const;

/** The detector flags the user typed (a default, such as --detections 5, is not one). */
export function detectorFlagsGiven(command: Command): string[] {
  return DETECTOR_FLAGS.filter(([key]) => {
    const source = command.getOptionValueSource(key);
    return source !== undefined && source !== 'default';
  }).map(([, flag]) => flag);
}

/**
 * Detector flags given for a model of another task are refused rather than dropped: the user believes a
 * threshold or a box convention shaped the result when nothing read it.
 */
export function refuseDetectorFlags(given: readonly string[], task: ModelTask | undefined): void {
  if (given.length === 0 || task === 'detect') return;
  const shown = task ?? 'classify';
  throw new SightlineError(
    'INVALID_ARGUMENT',
    `${given.join(', ')} ${given.length === 1 ? 'is' : 'are'} read only for object detectors; this model's task is '${shown}', which gives no boxes or detections. Leave ${given.length === 1 ? 'it' : 'them'} out, or pass --task detect for a model whose outputs are boxes and scores.`,
    { task: shown, flags: [...given] },
  );
}
