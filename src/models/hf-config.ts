// Hugging Face and timm model folders: their JSON files → preprocessing hints. No I/O, so the web app, which gets
// a dropped folder's files as text, reads them the same way as the CLI.
import { describe, SightlineError } from '../core/errors.js';
import { MAX_INPUT_SIDE, type ModelTask, type ResampleFilter, type ResizeFirst } from '../core/model.js';
import { IMAGENET_MEAN, IMAGENET_STD, type ModelHints } from './spec.js';

/** id2label of 21,843 ImageNet-22k classes is about 1 MiB; a config many times that is not a config. */
export const MAX_CONFIG_CHARS = 16 * 1024 * 1024;
/** An image processor's settings are a few hundred bytes. */
export const MAX_PREPROCESSOR_CHARS = 1024 * 1024;
/** More classes than any image model has; bounds the label list a hostile id2label can ask for. */
export const MAX_LABELS = 1_000_000;

export type FolderKind = 'huggingface' | 'timm';

/** What a folder's JSON files say about its model, as hints a flag may still override. */
export interface FolderConfig {
  readonly kind: FolderKind;
  readonly hints: ModelHints;
  /** The preprocessing in words, for notes and messages. */
  readonly preprocessing: string;
}

type Json = Record<string, unknown>;

/** A Hugging Face folder's config.json and preprocessor_config.json texts → hints. */
export function parseHfFolder(configText: string, preprocessorText: string): FolderConfig {
  const config = parseObject(configText, 'config.json', MAX_CONFIG_CHARS);
  const pre = parseObject(preprocessorText, 'preprocessor_config.json', MAX_PREPROCESSOR_CHARS);
  const labels = id2label(config);
  const task = problemType(config);
  const image = hfPreprocessing(new Reader(pre, 'preprocessor_config.json'));
  return {
    kind: 'huggingface',
    hints: { ...image.hints, layout: 'NCHW', ...(labels ? { labels } : {}), ...(task ? { task } : {}) },
    preprocessing: image.words,
  };
}

/** A timm folder's config.json text → hints (from its pretrained_cfg, or the top level in older files). */
export function parseTimmFolder(configText: string): FolderConfig {
  const config = parseObject(configText, 'config.json', MAX_CONFIG_CHARS);
  const top: Reader = new Reader(config, 'config.json');
  const cfg: Reader = config.pretrained_cfg === undefined ? top : top.object('pretrained_cfg');
  const image = timmPreprocessing(cfg);
  const labels = top.optional('label_names', 'a list of class names', isStringList) as string[] | undefined;
  const classes =
    cfg.optional('num_classes', 'a whole number', isCount) ??
    top.optional('num_classes', 'a whole number', isCount);
  if (labels && classes !== undefined && classes !== labels.length)
    top.refuse('label_names', labels, `${classes} names, one per class (num_classes is ${classes})`);
  return {
    kind: 'timm',
    hints: { ...image.hints, layout: 'NCHW', ...(labels ? { labels } : {}) },
    preprocessing: image.words,
  };
}

/** Whether a config.json is timm's (it has pretrained_cfg, or timm's singular 'architecture') or transformers'. */
export function folderKind(configText: string): FolderKind {
  const config = parseObject(configText, 'config.json', MAX_CONFIG_CHARS);
  const timm =
    config.pretrained_cfg !== undefined ||
    (typeof config.architecture === 'string' && config.model_type === undefined);
  return timm ? 'timm' : 'huggingface';
}

function parseObject(text: string, file: string, maxChars: number): Json {
  if (text.length > maxChars)
    throw refusal(
      `The model folder's ${file} is ${text.length} characters long, over the limit of ${maxChars}; expected a small JSON object.`,
    );
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw refusal(
      `The model folder's ${file} is not valid JSON (${(cause as Error).message}); expected a JSON object.`,
    );
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw refusal(
      `The model folder's ${file} holds ${Array.isArray(value) ? 'a list' : describe(value)}; expected a JSON object.`,
    );
  return value as Json;
}

function refusal(message: string, details: Record<string, unknown> = {}): SightlineError {
  return new SightlineError('MODEL_LOAD', message, details);
}

/** What a field holds, in words rather than quoted. */
class Said {
  constructor(readonly words: string) {}
}

/** Reads fields of one JSON object with their types checked; every refusal names the file and the field. */
class Reader {
  constructor(
    readonly json: Json,
    readonly file: string,
    readonly prefix = '',
  ) {}

  has(key: string): boolean {
    return Object.hasOwn(this.json, key) && this.json[key] !== null;
  }

  /** `got` is quoted as the file has it, or given in words as a Said. */
  refuse(key: string, got: unknown, expected: string): never {
    const said = got instanceof Said ? got.words : describe(got);
    throw refusal(
      `The model folder's ${this.file} says ${this.prefix}${key} is ${said}; expected ${expected}.`,
      { file: this.file, field: `${this.prefix}${key}` },
    );
  }

  /** The field when present (null counts as absent, as transformers writes unset values), checked. */
  optional<T>(key: string, expected: string, check: (v: unknown) => v is T): T | undefined {
    if (!this.has(key)) return undefined;
    const v = this.json[key];
    if (!check(v)) this.refuse(key, v, expected);
    return v;
  }

  required<T>(key: string, expected: string, check: (v: unknown) => v is T): T {
    const v = this.optional(key, expected, check);
    if (v === undefined) this.refuse(key, undefined, expected);
    return v;
  }

  object(key: string): Reader {
    const v = this.required(key, 'a JSON object', isObject);
    return new Reader(v, this.file, `${this.prefix}${key}.`);
  }
}

const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);
const isBool = (v: unknown): v is boolean => typeof v === 'boolean';
const isString = (v: unknown): v is string => typeof v === 'string';
const isPositive = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0;
const isSide = (v: unknown): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= MAX_INPUT_SIDE;
const isCount = (v: unknown): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= MAX_LABELS;
const isStringList = (v: unknown): v is string[] =>
  Array.isArray(v) && v.length <= MAX_LABELS && v.every(isString);
const isTriple = (v: unknown): v is number[] =>
  Array.isArray(v) &&
  (v.length === 3 || v.length === 1) &&
  v.every((x) => typeof x === 'number' && Number.isFinite(x));
const isStdTriple = (v: unknown): v is number[] => isTriple(v) && v.every((x) => x > 0);
const SIDE = `a whole number of pixels from 1 to ${MAX_INPUT_SIDE}`;

/** id2label ({"0": "cat", "1": "dog"}) → names in index order; every index from 0 must be there once. */
function id2label(config: Json): string[] | undefined {
  const r: Reader = new Reader(config, 'config.json');
  const map = r.optional('id2label', 'a JSON object from class index to name', isObject);
  if (!map) return undefined;
  const keys = Object.keys(map);
  if (keys.length > MAX_LABELS)
    r.refuse('id2label', new Said(`an object of ${keys.length} entries`), `at most ${MAX_LABELS} classes`);
  const names: string[] = new Array(keys.length);
  const seen = new Uint8Array(keys.length);
  let outside: string | undefined;
  for (const key of keys) {
    if (!/^(0|[1-9]\d*)$/.test(key))
      r.refuse(
        'id2label',
        new Said(`an object with the key ${describe(key)}`),
        'class indices written "0", "1", … as keys',
      );
    const name = map[key];
    if (!isString(name)) r.refuse(`id2label["${key}"]`, name, 'a class name (a string)');
    const index = Number(key);
    if (index >= keys.length) outside ??= key;
    else {
      names[index] = name;
      seen[index] = 1;
    }
  }
  if (outside !== undefined) {
    const hole = seen.indexOf(0);
    r.refuse(
      'id2label',
      new Said(`an object of ${keys.length} classes with no entry for "${hole}" but one for "${outside}"`),
      'one name for each index from 0 up, with no gaps',
    );
  }
  return names as string[];
}

const PROBLEM_TYPES: Record<string, ModelTask> = {
  single_label_classification: 'classify',
  multi_label_classification: 'multilabel',
  regression: 'score',
};

function problemType(config: Json): ModelTask | undefined {
  const r: Reader = new Reader(config, 'config.json');
  const kinds = Object.keys(PROBLEM_TYPES);
  const v = r.optional(
    'problem_type',
    `one of ${kinds.join(', ')}`,
    (x): x is string => isString(x) && kinds.includes(x),
  );
  return v === undefined ? undefined : PROBLEM_TYPES[v];
}

/** PIL's filter codes (PIL.Image.Resampling), as transformers stores `resample`. */
const PIL_FILTERS: Record<number, ResampleFilter | string> = {
  0: 'nearest',
  1: 'LANCZOS',
  2: 'bilinear',
  3: 'bicubic',
  4: 'BOX',
  5: 'HAMMING',
};
const SUPPORTED = '0 (nearest), 2 (bilinear) or 3 (bicubic)';

/**
 * Processors whose bare-number `size` transformers reads as the shortest edge (get_size_dict with
 * default_to_square=False); for the square ones it is height and width. Others are refused rather than guessed.
 */
const SHORTEST_EDGE_TYPES =
  /^(CLIP|ChineseCLIP|ConvNext|Bit|MobileNetV1|MobileNetV2|MobileViT)(ImageProcessor|FeatureExtractor)$/;
const SQUARE_TYPES =
  /^(ViT|DeiT|Beit|Data2VecVision|Dinov2|Siglip|EfficientNet|Swin|Swinv2)(ImageProcessor|FeatureExtractor)$/;

interface Preprocessing {
  readonly hints: ModelHints;
  readonly words: string;
}

function hfPreprocessing(r: Reader): Preprocessing {
  const type =
    r.optional('image_processor_type', 'a class name', isString) ??
    r.optional('feature_extractor_type', 'a class name', isString);
  if (r.optional('do_resize', 'true or false', isBool) === false)
    r.refuse(
      'do_resize',
      false,
      'true: a model without a resize takes photos of any size, which Sightline cannot feed',
    );
  if (r.optional('do_pad', 'true or false', isBool) === true)
    r.refuse('do_pad', true, 'false or absent: padding to a batch size is not implemented');
  const code = r.required(
    'resample',
    `a PIL filter code: ${SUPPORTED}`,
    (v): v is number => typeof v === 'number',
  );
  const filter = PIL_FILTERS[code];
  if (filter !== 'nearest' && filter !== 'bilinear' && filter !== 'bicubic')
    r.refuse(
      'resample',
      filter ? new Said(`${code} (${filter})`) : code,
      `${SUPPORTED}; other filters are not implemented`,
    );

  const size = hfSize(r, type);
  const doCrop = r.optional('do_center_crop', 'true or false', isBool) ?? false;
  const crop = doCrop ? hfCropSize(r) : undefined;
  let geometry: Pick<ModelHints, 'width' | 'height' | 'resize' | 'cropFraction' | 'resizeFirst'>;
  let words: string;
  const cropPct = r.optional(
    'crop_pct',
    'a number above 0 and at most 1',
    (v): v is number => isPositive(v) && v <= 1,
  );
  if (cropPct !== undefined && !/^ConvNext/.test(type ?? ''))
    r.refuse(
      'crop_pct',
      cropPct,
      `absent: only ConvNext processors define it, and this one is ${describe(type ?? 'unnamed')}`,
    );
  if (cropPct !== undefined) {
    // ConvNextImageProcessor.resize: below 384 the shorter side becomes int(edge / crop_pct) and edge × edge
    // is cut from the centre; from 384 up the photo is squashed to edge × edge.
    if (!('shortestEdge' in size))
      r.refuse('size', r.json.size, '{"shortest_edge": n} for a ConvNext processor');
    const edge = size.shortestEdge;
    if (edge < 384) {
      const resized = firstResize(r, edge, cropPct);
      geometry = centred(edge, edge, { kind: 'shortest-edge', size: resized, offset: 'floor' });
      words = `shorter side to ${resized} px, then the central ${edge} × ${edge}`;
    } else {
      geometry = { width: edge, height: edge, resize: 'squash' };
      words = `squashed to ${edge} × ${edge}`;
    }
  } else if ('shortestEdge' in size) {
    if (!crop)
      r.refuse(
        'do_center_crop',
        doCrop,
        'true with a crop_size: after a shortest_edge resize the size still varies with the photo',
      );
    if (crop.width > size.shortestEdge || crop.height > size.shortestEdge)
      r.refuse(
        'crop_size',
        r.json.crop_size,
        `at most size.shortest_edge (${size.shortestEdge}) a side: transformers pads a larger crop with black, which is not implemented`,
      );
    geometry = centred(crop.width, crop.height, {
      kind: 'shortest-edge',
      size: size.shortestEdge,
      offset: 'floor',
    });
    words = `shorter side to ${size.shortestEdge} px, then the central ${crop.width} × ${crop.height}`;
  } else if (crop && (crop.width !== size.width || crop.height !== size.height)) {
    if (crop.width > size.width || crop.height > size.height)
      r.refuse(
        'crop_size',
        r.json.crop_size,
        `at most the size (${size.width} × ${size.height}): transformers pads a larger crop with black, which is not implemented`,
      );
    geometry = centred(crop.width, crop.height, {
      kind: 'fixed',
      width: size.width,
      height: size.height,
      offset: 'floor',
    });
    words = `squashed to ${size.width} × ${size.height}, then the central ${crop.width} × ${crop.height}`;
  } else {
    geometry = { width: size.width, height: size.height, resize: 'squash' };
    words = `squashed to ${size.width} × ${size.height}`;
  }

  const { mean, std } = hfNormalisation(r);
  const bgr = r.optional('do_flip_channel_order', 'true or false', isBool) === true;
  return {
    hints: { ...geometry, mean, std, resample: filter, ...(bgr ? { channelOrder: 'BGR' as const } : {}) },
    words: `${words} (${filter})`,
  };
}

/**
 * floor(side / crop_pct), the first resize's side, refused naming crop_pct when it is larger than any input
 * Sightline feeds (a valid-looking 0.001 would ask for a 224,000-pixel side).
 */
function firstResize(r: Reader, side: number, cropPct: number): number {
  const resized = Math.floor(side / cropPct);
  if (resized > MAX_INPUT_SIDE)
    r.refuse(
      'crop_pct',
      cropPct,
      `a fraction that resizes the photo to at most ${MAX_INPUT_SIDE} pixels a side before the crop (${side} / crop_pct is ${resized})`,
    );
  return resized;
}

/** A crop of width × height from the centre of a first resize; cropFraction says it for the center-crop mode. */
function centred(
  width: number,
  height: number,
  resizeFirst: ResizeFirst,
): Pick<ModelHints, 'width' | 'height' | 'resize' | 'cropFraction' | 'resizeFirst'> {
  const short =
    resizeFirst.kind === 'shortest-edge' ? resizeFirst.size : Math.min(resizeFirst.width, resizeFirst.height);
  return { width, height, resize: 'center-crop', cropFraction: Math.min(width, height) / short, resizeFirst };
}

type HfSize = { readonly shortestEdge: number } | { readonly width: number; readonly height: number };

function hfSize(r: Reader, type: string | undefined): HfSize {
  const size = r.json.size;
  if (typeof size === 'number') {
    if (!isSide(size)) r.refuse('size', size, SIDE);
    if (SHORTEST_EDGE_TYPES.test(type ?? '')) return { shortestEdge: size };
    if (SQUARE_TYPES.test(type ?? '')) return { width: size, height: size };
    r.refuse(
      'size',
      size,
      `{"height": h, "width": w} or {"shortest_edge": n}: transformers reads a bare number as a square for some processors and as the shorter side for others, and ${describe(type ?? 'an unnamed processor')} is not one Sightline knows`,
    );
  }
  const s: Reader = r.object('size');
  const keys = Object.keys(s.json).filter((k) => s.has(k));
  if (keys.includes('longest_edge'))
    r.refuse(
      'size',
      size,
      '{"height": h, "width": w} or {"shortest_edge": n}: a longest_edge resize gives inputs of varying size, which is not implemented',
    );
  if (keys.includes('shortest_edge')) return { shortestEdge: s.required('shortest_edge', SIDE, isSide) };
  if (keys.includes('height') || keys.includes('width'))
    return { width: s.required('width', SIDE, isSide), height: s.required('height', SIDE, isSide) };
  return r.refuse('size', size, '{"height": h, "width": w} or {"shortest_edge": n}');
}

function hfCropSize(r: Reader): { width: number; height: number } {
  const crop = r.json.crop_size;
  if (typeof crop === 'number') {
    if (!isSide(crop)) r.refuse('crop_size', crop, SIDE);
    return { width: crop, height: crop };
  }
  const c: Reader = r.object('crop_size');
  return { width: c.required('width', SIDE, isSide), height: c.required('height', SIDE, isSide) };
}

/**
 * transformers computes (p · rescale_factor − image_mean) / image_std on 0..255 pixels p; the spec computes
 * (p / 255 − mean′) / std′, which is the same with mean′ = mean / (255 · rescale) and std′ = std / (255 · rescale).
 */
function hfNormalisation(r: Reader): { mean: number[]; std: number[] } {
  const doRescale = r.optional('do_rescale', 'true or false', isBool) ?? true;
  const factor = doRescale
    ? r.required('rescale_factor', 'a positive number (1/255 = 0.00392156862745098)', isPositive)
    : 1;
  const doNormalize = r.optional('do_normalize', 'true or false', isBool) ?? true;
  const mean = doNormalize ? r.required('image_mean', 'three numbers (or one)', isTriple) : [0];
  const std = doNormalize ? r.required('image_std', 'three positive numbers (or one)', isStdTriple) : [1];
  // 1/255 written as a decimal is 1/255 to within rounding: no spurious 1e-16 in the spec.
  const unit = Math.abs(factor * 255 - 1) < 1e-12 ? 1 : factor * 255;
  const three = (v: number[]) => (v.length === 1 ? [v[0], v[0], v[0]] : v);
  return { mean: three(mean).map((m) => m / unit), std: three(std).map((s) => s / unit) };
}

const TIMM_FILTERS: readonly string[] = ['bilinear', 'bicubic', 'nearest'];

/**
 * timm's evaluation transform (transforms_imagenet_eval): crop_mode 'center' resizes the shorter side to
 * floor(size / crop_pct) and cuts size × size from the centre (torchvision's Resize and CenterCrop, whose offset
 * is rounded); 'squash' resizes both sides so, then cuts. Absent fields take resolve_data_config's defaults.
 */
function timmPreprocessing(r: Reader): Preprocessing {
  const input = r.required(
    'input_size',
    '[3, height, width]',
    (v): v is number[] => Array.isArray(v) && v.length === 3,
  );
  if (input[0] !== 3 || !isSide(input[1]) || !isSide(input[2]))
    r.refuse('input_size', input, `[3, height, width] with sides from 1 to ${MAX_INPUT_SIDE}`);
  const [height, width] = [input[1], input[2]];
  const interpolation =
    r.optional('interpolation', `one of ${TIMM_FILTERS.join(', ')}`, isString) ?? 'bicubic';
  if (!TIMM_FILTERS.includes(interpolation))
    r.refuse(
      'interpolation',
      interpolation,
      `one of ${TIMM_FILTERS.join(', ')}; other filters are not implemented`,
    );
  const filter = interpolation as ResampleFilter;
  const cropPct =
    r.optional('crop_pct', 'a number above 0 and at most 1', (v): v is number => isPositive(v) && v <= 1) ??
    0.875;
  const mode = r.optional('crop_mode', "'center' or 'squash'", isString) ?? 'center';
  const scaleW = firstResize(r, width, cropPct);
  const scaleH = firstResize(r, height, cropPct);
  let geometry: Pick<ModelHints, 'width' | 'height' | 'resize' | 'cropFraction' | 'resizeFirst'>;
  let words: string;
  if (mode === 'center') {
    if (width !== height)
      r.refuse(
        'input_size',
        input,
        "a square input with crop_mode 'center' (timm's ResizeKeepRatio for other shapes is not implemented)",
      );
    geometry = centred(width, height, { kind: 'shortest-edge', size: scaleH, offset: 'round' });
    words = `shorter side to ${scaleH} px, then the central ${width} × ${height}`;
  } else if (mode === 'squash') {
    geometry = centred(width, height, { kind: 'fixed', width: scaleW, height: scaleH, offset: 'round' });
    words = `squashed to ${scaleW} × ${scaleH}, then the central ${width} × ${height}`;
  } else {
    return r.refuse('crop_mode', mode, "'center' or 'squash' ('border' is not implemented)");
  }
  const mean = r.optional('mean', 'three numbers', isTriple) ?? [...IMAGENET_MEAN];
  const std = r.optional('std', 'three positive numbers', isStdTriple) ?? [...IMAGENET_STD];
  return { hints: { ...geometry, mean, std, resample: filter }, words: `${words} (${filter})` };
}
