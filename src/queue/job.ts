// What travels through Redis: one job per image (the settings, the image and where its row goes) and one
// result per job. Both are untrusted on arrival: anyone who can write to the Redis can write a job, so a worker
// checks every field before use, and the coordinator checks every result (audit/row-check.ts) before the journal.
import { createHash } from 'node:crypto';
import { isAbsolute, resolve } from 'node:path';
import { MAX_ROW_WINDOWS } from '../audit/detect-window.js';
import { BACKGROUND_FILLS, OBJECT_FILLS, type ShortcutConfig } from '../audit/shortcut-types.js';
import type { DetectObject, ImageRegions } from '../audit/types.js';
import { SightlineError } from '../core/errors.js';
import type { OptionValue } from '../core/method.js';
import { MODEL_TASKS } from '../core/model.js';
import { type RegionShape, validateBox, validatePolygon } from '../core/regions/shapes.js';
import { capText } from '../core/text.js';
import { isHttpUrl } from '../core/url.js';
import type { ModelHints } from '../models/spec.js';

/** The BullMQ queue every worker takes audit jobs from. */
export const JOBS_QUEUE = 'sightline-audit';
/** An audit's results queue: one per audit (settings and output folder), so two audits never mix rows. */
const RESULTS_NAME = /^sightline-results-[0-9a-f]{16}$/;
export const JOB_VERSION = 1;
/**
 * The version of an audit job with shortcut tests (settings.shortcuts and partners): a worker from before them
 * would drop both and send a row without its tests, so it must refuse the job instead ('v' is not its 1).
 * Every other job stays version 1, which such workers still take.
 */
export const SHORTCUTS_JOB_VERSION = 2;

const MAX_TEXT = 4096;
const MAX_SHAPES = 10_000;
const MAX_POINTS = 100_000;
const MAX_OPTIONS = 64;

/** The settings every image of an audit shares: what a local audit takes from its flags. */
export interface JobSettings {
  /** 'default', an http(s) URL, or an absolute path every worker can read (a shared file system). */
  readonly model: string;
  readonly hints: ModelHints;
  readonly method: string;
  readonly noiseTunnel?: 'smoothgrad' | 'vargrad';
  readonly options: Readonly<Record<string, OptionValue>>;
  readonly topK: number;
  readonly tolerance: number;
  readonly faithfulness: boolean;
  /** A detector's audit: detections explained per image (`--detections`); absent for every other task. */
  readonly detections?: number;
  /** audit --shortcuts: how the variants are made (the same for every image). */
  readonly shortcuts?: JobShortcutSettings;
  /** Embedding models: the reference every image is compared with (absent for other tasks). */
  readonly reference?: JobReference;
}

/**
 * An embedding model's reference as a job names it: the file's absolute path, which every worker reads (a
 * shared file system, as for the model), and the SHA-256 of the bytes the coordinator read there. Not the
 * contents: a vector of a few thousand numbers in every job would be that many copies in Redis, one per image
 * in flight, and a photo would be worse; and not the coordinator's own embedding of a photo, which a worker
 * on another machine (other threads, another build of the runtime) might not reproduce to the last digit,
 * where a local audit embeds it with the same model that explains. The hash is part of the settings, so it
 * names the results queue and every job id: a rerun with another reference shares no job with this one. A
 * worker reads the file once per hash and refuses bytes of another hash (the file changed since, or the job
 * was altered) rather than explain against something the run was not started with.
 */
export interface JobReference {
  readonly path: string;
  /** 64 lowercase hex digits. */
  readonly sha256: string;
}

export interface JobShortcutSettings extends ShortcutConfig {
  /**
   * With background 'mean': the audit's mean colour at the model's input (0..255 RGB), over every image with
   * regions, computed once by the coordinator; a worker reads only its image and that image's partners.
   */
  readonly meanColour?: readonly [number, number, number];
}

/**
 * The images whose backgrounds an image's swaps take, chosen by the coordinator as a local audit chooses them
 * (audit/shortcuts.ts shortcutPartners), each with what a worker needs to cut its background out.
 */
export interface JobPartners {
  readonly random?: JobPartner;
  readonly same?: JobPartner;
}

export type JobPartner = Omit<JobImage, 'label' | 'regions'> &
  Required<Pick<JobImage, 'regions'>> & {
    /**
     * Why the coordinator's listing passed this image over (a FIFO, a link out of the folder or to nothing;
     * io/list-images.ts): a worker does not read it, and the row says why, as a local audit's does.
     */
    readonly unreadable?: string;
  };

export interface JobImage {
  /** The row's identity, as a local audit names it (the path relative to the audited folder). */
  readonly file: string;
  /** Where a worker reads it: an absolute path or an http(s) URL. */
  readonly source: string;
  readonly label?: string;
  readonly regions?: {
    readonly shapes: readonly RegionShape[];
    readonly maskPath?: string;
    readonly source: string;
  };
  /**
   * A detector's ground truth (`--regions` read by readDetectTruth): each object's class and box, x0, y0, x1, y1
   * in photo pixels; present, empty or not, exactly when the audit was given ground truth.
   */
  readonly objects?: readonly DetectObject[];
}

export interface AuditJob {
  readonly v: typeof JOB_VERSION | typeof SHORTCUTS_JOB_VERSION;
  /** The results queue the row goes to. */
  readonly results: string;
  /** Times a worker may die on this image (or fail to load the model) before it becomes an error row. */
  readonly attempts: number;
  readonly settings: JobSettings;
  readonly image: JobImage;
  /** With settings.shortcuts: the image's swap partners (none when it has no region or no other image has). */
  readonly partners?: JobPartners;
}

/** A finished image: its row (checked again by the coordinator) and pictures, base64 WebP. */
export interface AuditResult {
  readonly file: string;
  readonly row: unknown;
  readonly overlay?: string;
  readonly thumbnail?: string;
  /** A detector's row: one overlay per map the row names, by its key ('det0', 'miss1'). */
  readonly maps?: Readonly<Record<string, string>>;
}

/**
 * The most maps (explained detections and missed objects, one overlay each) a detector's result carries: with
 * the row's two pictures, about 30 KB each for a 640-pixel photo, a result stays near 3 MB at most in Redis.
 * As many as a row keeps windows around its detections (audit/detect-window.ts).
 */
export const MAX_RESULT_MAPS = MAX_ROW_WINDOWS;

const hash = (parts: readonly unknown[], length: number) =>
  createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, length);

/** The results queue of an audit: the same settings into the same folder (on this host) resume it. */
export function resultsQueueName(settings: unknown, out: string, host: string): string {
  return `sightline-results-${hash([settings, out, host], 16)}`;
}

/**
 * A job's id: the same image of the same audit is one job, however often it is enqueued. `more` is what else
 * the job carries for this image (its shortcut partners), so that a dataset whose partners changed is not
 * served by a job enqueued before; absent, the id is what it always was.
 */
export function jobId(results: string, image: JobImage, more?: unknown): string {
  const parts = [results, image.file, image.source];
  return `a${hash(more === undefined ? parts : [...parts, more], 32)}`;
}

/**
 * An image's regions as a job carries them (nothing when it has none): the mask file by its absolute path, as
 * every worker reads it, not relative to where the coordinator runs.
 */
export function jobRegions(regions: ImageRegions | undefined): Pick<JobImage, 'regions'> {
  if (!regions) return {};
  return {
    regions: {
      shapes: regions.shapes,
      ...(regions.maskPath ? { maskPath: resolve(regions.maskPath) } : {}),
      source: regions.source,
    },
  };
}

/** A job's data as a worker may use it, or a SightlineError naming the first thing wrong. */
export function checkAuditJob(value: unknown): AuditJob {
  const o = record(value, 'the job');
  if (o.v !== JOB_VERSION && o.v !== SHORTCUTS_JOB_VERSION)
    bad(
      `'v' is ${shown(o.v)}, expected ${JOB_VERSION} or ${SHORTCUTS_JOB_VERSION} (a worker of another version?)`,
    );
  const results = text(o.results, 'results');
  if (!RESULTS_NAME.test(results)) bad("'results' is not a Sightline results queue name");
  const attempts = integer(o.attempts, 'attempts', 1, 100);
  const settings = checkSettings(o.settings);
  const shortcuts = settings.shortcuts !== undefined;
  if (shortcuts !== (o.v === SHORTCUTS_JOB_VERSION))
    bad(
      `'v' is ${shown(o.v)}, expected ${shortcuts ? SHORTCUTS_JOB_VERSION : JOB_VERSION} for a job ${shortcuts ? 'with' : 'without'} 'settings.shortcuts'`,
    );
  if (!shortcuts && o.partners !== undefined) bad("'partners' is given without 'settings.shortcuts'");
  return {
    v: shortcuts ? SHORTCUTS_JOB_VERSION : JOB_VERSION,
    results,
    attempts,
    settings,
    image: checkImage(o.image, 'image'),
    ...(shortcuts ? { partners: checkPartners(o.partners) } : {}),
  };
}

/** The file a malformed job names, when it names one, for its error row. */
export function fileOfJob(value: unknown): string | undefined {
  const image = (value as { image?: { file?: unknown } } | undefined)?.image;
  return typeof image?.file === 'string' && image.file.length <= MAX_TEXT ? image.file : undefined;
}

function checkSettings(value: unknown): JobSettings {
  const o = record(value, 'settings');
  const model = text(o.model, 'settings.model');
  if (model !== 'default' && !isHttpUrl(model) && !isAbsolute(model))
    bad("'settings.model' is not 'default', an http(s) URL or an absolute path");
  const options: Record<string, OptionValue> = {};
  const given = record(o.options, 'settings.options');
  if (Object.keys(given).length > MAX_OPTIONS) bad("'settings.options' has too many entries");
  for (const [key, v] of Object.entries(given)) {
    if (!/^[A-Za-z][A-Za-z0-9]{0,63}$/.test(key)) bad(`'settings.options' has an odd name ${shown(key)}`);
    if (typeof v === 'number' ? !Number.isFinite(v) : typeof v !== 'string' && typeof v !== 'boolean')
      bad(`'settings.options.${key}' is not a number, text or true/false`);
    options[key] = typeof v === 'string' ? text(v, `settings.options.${key}`) : (v as OptionValue);
  }
  const noiseTunnel = o.noiseTunnel;
  if (noiseTunnel !== undefined && noiseTunnel !== 'smoothgrad' && noiseTunnel !== 'vargrad')
    bad("'settings.noiseTunnel' is not 'smoothgrad' or 'vargrad'");
  if (typeof o.faithfulness !== 'boolean') bad("'settings.faithfulness' is not true or false");
  const tolerance = o.tolerance;
  if (typeof tolerance !== 'number' || !(tolerance >= 0 && tolerance <= 1e6))
    bad("'settings.tolerance' is not a number from 0 to 1,000,000");
  return {
    model,
    hints: checkHints(o.hints),
    method: text(o.method, 'settings.method'),
    ...(noiseTunnel ? { noiseTunnel } : {}),
    options,
    topK: integer(o.topK, 'settings.topK', 1, 1000),
    tolerance: tolerance as number,
    faithfulness: o.faithfulness as boolean,
    ...(o.detections !== undefined
      ? { detections: integer(o.detections, 'settings.detections', 1, MAX_RESULT_MAPS) }
      : {}),
    ...(o.shortcuts !== undefined ? { shortcuts: checkShortcutSettings(o.shortcuts) } : {}),
    ...(o.reference !== undefined ? { reference: checkReference(o.reference) } : {}),
  };
}

function checkShortcutSettings(value: unknown): JobShortcutSettings {
  const o = record(value, 'settings.shortcuts');
  const background = oneOf(o.background, 'settings.shortcuts.background', BACKGROUND_FILLS);
  const removal = oneOf(o.removal, 'settings.shortcuts.removal', OBJECT_FILLS);
  const seed = integer(o.seed, 'settings.shortcuts.seed', 0, 0xffffffff);
  const colour = o.meanColour;
  if ((background === 'mean') !== (colour !== undefined))
    bad(
      `'settings.shortcuts.meanColour' is ${background === 'mean' ? 'missing' : 'given'}; it comes with background 'mean' only`,
    );
  if (
    colour !== undefined &&
    (!Array.isArray(colour) ||
      colour.length !== 3 ||
      colour.some((c) => typeof c !== 'number' || !(c >= 0 && c <= 255)))
  )
    bad("'settings.shortcuts.meanColour' is not three numbers from 0 to 255");
  return {
    background,
    removal,
    seed,
    ...(colour !== undefined ? { meanColour: [...colour] as [number, number, number] } : {}),
  };
}

/** An image's swap partners: 'random' and 'same' at most, each an image with regions, checked as the image is. */
function checkPartners(value: unknown): JobPartners {
  const o = record(value, 'partners');
  const keys = Object.keys(o);
  const others = keys.filter((k) => k !== 'random' && k !== 'same');
  if (others.length > 0)
    bad(
      `'partners' has ${keys.length} entr${keys.length === 1 ? 'y' : 'ies'} (${shown(others.slice(0, 3))} among them); expected at most 'random' and 'same'`,
    );
  const partners: { random?: JobPartner; same?: JobPartner } = {};
  for (const key of ['random', 'same'] as const) {
    if (o[key] === undefined) continue;
    const name = `partners.${key}`;
    const { file, source, regions } = checkImage(o[key], name);
    if (!regions) bad(`'${name}.regions' is missing; a partner lends the background around its regions`);
    const { unreadable } = o[key] as Record<string, unknown>;
    partners[key] = {
      file,
      source,
      regions,
      ...(unreadable !== undefined ? { unreadable: text(unreadable, `${name}.unreadable`) } : {}),
    };
  }
  return partners;
}

function checkReference(value: unknown): JobReference {
  const o = record(value, 'settings.reference');
  const path = text(o.path, 'settings.reference.path');
  if (!isAbsolute(path)) bad("'settings.reference.path' is not an absolute path");
  if (typeof o.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(o.sha256))
    bad("'settings.reference.sha256' is not a SHA-256 (64 lowercase hex digits)");
  return { path, sha256: o.sha256 as string };
}

/** The model hints a job may carry, each of its type; secrets (headers, API key variables) never travel. */
function checkHints(value: unknown): ModelHints {
  const o = record(value, 'settings.hints');
  const hints: Record<string, unknown> = {};
  const numbers = ['width', 'height', 'scoreThreshold', 'iouThreshold', 'maxBatch', 'cropFraction'];
  const texts = ['labelsPath', 'detectFormat', 'boxFormat', 'variant'];
  const choices: Record<string, readonly string[]> = {
    layout: ['NCHW', 'NHWC'],
    channelOrder: ['RGB', 'BGR'],
    resize: ['squash', 'center-crop', 'letterbox'],
    outputs: ['probabilities', 'logits'],
    task: MODEL_TASKS,
  };
  for (const [key, v] of Object.entries(o)) {
    if (v === undefined || v === null) continue;
    const name = `settings.hints.${key}`;
    if (numbers.includes(key)) {
      if (typeof v !== 'number' || !Number.isFinite(v)) bad(`'${name}' is not a number`);
      hints[key] = v;
    } else if (texts.includes(key)) hints[key] = text(v, name);
    else if (key in choices) hints[key] = oneOf(v, name, choices[key]);
    else if (key === 'mean' || key === 'std') {
      // One number or one per channel; the model's loader checks which its input takes.
      if (
        !Array.isArray(v) ||
        v.length < 1 ||
        v.length > 4 ||
        v.some((x) => typeof x !== 'number' || !Number.isFinite(x))
      )
        bad(`'${name}' is not one to four numbers`);
      hints[key] = v;
    } else if (key === 'http') {
      const h = record(v, name);
      const http: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(h)) {
        if (x === undefined || x === null) continue;
        if (k === 'input' && (x === 'png' || x === 'float32')) http[k] = x;
        else if (
          ['requestBatch', 'concurrency', 'timeoutMs', 'retries', 'budget'].includes(k) &&
          typeof x === 'number' &&
          Number.isFinite(x)
        )
          http[k] = x;
        else bad(`'${name}.${k}' is not a setting a job may carry (headers and keys stay on each worker)`);
      }
      hints.http = http;
    } else bad(`'${name}' is not a model setting a job may carry`);
  }
  if (typeof hints.labelsPath === 'string' && !isAbsolute(hints.labelsPath))
    bad("'settings.hints.labelsPath' is not an absolute path");
  return hints as ModelHints;
}

function checkImage(value: unknown, name: string): JobImage {
  const o = record(value, name);
  const file = text(o.file, `${name}.file`);
  const source = text(o.source, `${name}.source`);
  if (!isHttpUrl(source) && !isAbsolute(source))
    bad(`'${name}.source' is not an absolute path or an http(s) URL`);
  const label = o.label === undefined ? undefined : text(o.label, `${name}.label`);
  let regions: JobImage['regions'];
  if (o.regions !== undefined) {
    const r = record(o.regions, `${name}.regions`);
    if (!Array.isArray(r.shapes) || r.shapes.length > MAX_SHAPES)
      bad(`'${name}.regions.shapes' is not a list of at most ${MAX_SHAPES} shapes`);
    let points = 0;
    const shapes = (r.shapes as unknown[]).map((s, i): RegionShape => {
      const shape = record(s, `${name}.regions.shapes[${i}]`);
      try {
        if (shape.type === 'box') {
          const box = { x: shape.x, y: shape.y, width: shape.width, height: shape.height } as {
            x: number;
            y: number;
            width: number;
            height: number;
          };
          validateBox(box, `${name}.regions.shapes[${i}]`);
          return { type: 'box', ...box };
        }
        if (shape.type === 'polygon') {
          validatePolygon(shape.points as number[], `${name}.regions.shapes[${i}].points`);
          points += (shape.points as number[]).length;
          if (points > MAX_POINTS) bad(`'${name}.regions' has over ${MAX_POINTS} polygon points`);
          return { type: 'polygon', points: [...(shape.points as number[])] };
        }
      } catch (error) {
        if (error instanceof SightlineError) bad(error.message);
        throw error;
      }
      return bad(`'${name}.regions.shapes[${i}].type' is not 'box' or 'polygon'`);
    });
    const maskPath = r.maskPath === undefined ? undefined : text(r.maskPath, `${name}.regions.maskPath`);
    if (maskPath !== undefined && !isAbsolute(maskPath))
      bad(`'${name}.regions.maskPath' is not an absolute path`);
    regions = {
      shapes,
      ...(maskPath !== undefined ? { maskPath } : {}),
      source: text(r.source, `${name}.regions.source`),
    };
  }
  const objects = o.objects === undefined ? undefined : checkObjects(o.objects);
  return {
    file,
    source,
    ...(label !== undefined ? { label } : {}),
    ...(regions ? { regions } : {}),
    ...(objects ? { objects } : {}),
  };
}

/** A detector's ground-truth objects: a class name and a box of positive size each, as readDetectTruth gives. */
function checkObjects(value: unknown): DetectObject[] {
  if (!Array.isArray(value) || value.length > MAX_SHAPES)
    bad(`'image.objects' is not a list of at most ${MAX_SHAPES} objects`);
  return (value as unknown[]).map((v, i) => {
    const o = record(v, `image.objects[${i}]`);
    const box = o.box;
    if (
      !Array.isArray(box) ||
      box.length !== 4 ||
      !box.every((c) => typeof c === 'number' && Number.isFinite(c) && Math.abs(c) <= 1e9) ||
      !(box[2] > box[0] && box[3] > box[1])
    )
      bad(`'image.objects[${i}].box' is not [x0, y0, x1, y1] with x1 > x0 and y1 > y0 (finite numbers)`);
    return {
      label: text(o.label, `image.objects[${i}].label`),
      box: [box[0], box[1], box[2], box[3]] as [number, number, number, number],
    };
  });
}

function record(value: unknown, name: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) bad(`'${name}' is not an object`);
  return value as Record<string, unknown>;
}

function text(value: unknown, name: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_TEXT)
    bad(`'${name}' is not a text of 1 to ${MAX_TEXT} characters`);
  return value as string;
}

function oneOf<T extends string>(value: unknown, name: string, choices: readonly T[]): T {
  if (!choices.includes(value as T)) bad(`'${name}' is not one of ${choices.join(', ')}`);
  return value as T;
}

function integer(value: unknown, name: string, min: number, max: number): number {
  if (!Number.isInteger(value) || (value as number) < min || (value as number) > max)
    bad(`'${name}' is not a whole number from ${min} to ${max}`);
  return value as number;
}

/** An untrusted value as a message quotes it: JSON, cut short. */
export function shown(value: unknown): string {
  return capText(JSON.stringify(value) ?? String(value), 80);
}

function bad(problem: string): never {
  throw malformedJob(problem);
}

/** The error of a job that fails its checks; `problem` names the field and what is wrong with it. */
export function malformedJob(problem: string): SightlineError {
  return new SightlineError('INVALID_ARGUMENT', `A malformed queue job: ${problem}.`, {});
}
