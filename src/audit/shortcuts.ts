// Shortcut tests (audit --shortcuts): each image's object alone, the image without its object, and the object on
// other images' backgrounds, scored by the model in one batch, with flags in words where the answer follows the
// context rather than the object. Portable: sources are loaders, as the audit's items are.
import { SightlineError, throwIfAborted } from '../core/errors.js';
import type { RgbImage } from '../core/image.js';
import type { Model } from '../core/model.js';
import { toModelLayout } from '../core/preprocess.js';
import { createRng } from '../core/random.js';
import { outputValues } from '../core/scores.js';
import { capText } from '../core/text.js';
import { labelOf } from '../explain.js';
import { compareText } from './aggregate.js';
import {
  blurredBackground,
  type InputScene,
  meanColour,
  paste,
  sceneAtInput,
  solidPlanes,
} from './shortcut-pixels.js';
import type { ShortcutConfig, ShortcutOutcome, ShortcutRowPart, ShortcutVariant } from './shortcut-types.js';

/** An image that can lend its background: every image of the audit with regions. */
export interface ShortcutSource {
  readonly file: string;
  /** The label as given; images with the same text are of the same class. */
  readonly label?: string;
  load(): Promise<RgbImage>;
  regionMask(width: number, height: number): Promise<Uint8Array>;
}

/** One image to test, as the audit already has it. */
export interface ShortcutInput {
  readonly file: string;
  readonly image: RgbImage;
  readonly mask: Uint8Array;
  /** The class the row explains (its label's, else the top prediction's). */
  readonly target: number;
  /** The label's class index, when the image has one. */
  readonly expected?: number;
  readonly signal?: AbortSignal;
}

/** Each file's swap partners, by file name (shortcutPartners). */
export type ShortcutPartners = ReadonlyMap<string, { readonly random?: string; readonly same?: string }>;

/**
 * What another process already worked out over the whole audit, for a tester that sees only part of it (a queue
 * worker, given one image's partners): the partners, and the mean colour when the background fill is 'mean'.
 */
export interface ShortcutChoices {
  readonly partners: ShortcutPartners;
  readonly meanColour?: readonly [number, number, number];
}

/** Object-less backgrounds kept for reuse as other images' swaps (each a few MB at most at the input's size). */
const BACKGROUND_CACHE = 8;

/**
 * Each file's swap partners: one random other file, and one random other file with the same label (none
 * without a label, or when it is its class's only file). Files are taken in code-unit order and two numbers are
 * drawn for each from mulberry32(seed), so the partners depend on the files, labels and seed only, not on the
 * order given or on which images a resumed audit still has to do.
 */
export function shortcutPartners(
  files: readonly { readonly file: string; readonly label?: string }[],
  seed: number,
): Map<string, { random?: string; same?: string }> {
  const sorted = [...files].sort((a, b) => compareText(a.file, b.file));
  const byLabel = new Map<string, string[]>();
  for (const f of sorted)
    if (f.label !== undefined) byLabel.set(f.label, [...(byLabel.get(f.label) ?? []), f.file]);
  const rng = createRng(seed);
  const out = new Map<string, { random?: string; same?: string }>();
  sorted.forEach((f, i) => {
    const r1 = rng.next();
    const r2 = rng.next();
    const n = sorted.length;
    let random: string | undefined;
    if (n > 1) {
      const j = Math.floor(r1 * (n - 1));
      random = sorted[j >= i ? j + 1 : j].file;
    }
    const others = f.label === undefined ? [] : byLabel.get(f.label)!.filter((g) => g !== f.file);
    const same = others.length > 0 ? others[Math.floor(r2 * others.length)] : undefined;
    out.set(f.file, { ...(random ? { random } : {}), ...(same ? { same } : {}) });
  });
  return out;
}

/** Runs the shortcut tests of an audit's images against the backgrounds of `sources`. */
export class ShortcutTester {
  private readonly partners: ShortcutPartners;
  private readonly sources: Map<string, ShortcutSource>;
  private readonly backgrounds = new Map<string, Promise<Float32Array>>();
  private datasetMean?: Promise<[number, number, number]>;

  constructor(
    private readonly model: Model,
    sources: readonly ShortcutSource[],
    private readonly config: ShortcutConfig,
    chosen?: ShortcutChoices,
  ) {
    const task = model.spec.task ?? 'classify';
    if (task !== 'classify')
      throw new SightlineError(
        'INVALID_ARGUMENT',
        `--shortcuts tests a classifier's answer on variants of each photo; this model is read as ${task}. Audit it without --shortcuts, or pass --task classify if its outputs are classes.`,
        { task },
      );
    this.sources = new Map(sources.map((s) => [s.file, s]));
    this.partners = chosen?.partners ?? shortcutPartners(sources, config.seed);
    if (chosen?.meanColour) this.datasetMean = Promise.resolve([...chosen.meanColour]);
  }

  /** Each file's partners, as test() uses them. */
  partnersOf(file: string): { readonly random?: string; readonly same?: string } {
    return this.partners.get(file) ?? {};
  }

  async test(input: ShortcutInput): Promise<ShortcutRowPart> {
    const { spec } = this.model;
    const { signal } = input;
    const scene = sceneAtInput(input.image, input.mask, spec);
    if (!scene.mask.includes(1)) {
      // Nothing of the object reaches the model (a centre crop cut it off): there is nothing to remove or
      // move, and 'still predicts it without the object' would be true of every such photo.
      const [original] = await this.score([scene.planes], input);
      return flagged({ index: input.target, label: labelOf(this.model, input.target) }, { original }, {}, [
        'the region lies outside the part of the photo the model sees (its crop), so there is no object to test',
      ]);
    }
    const own = blurredBackground(scene);
    const removedFill =
      this.config.removal === 'black' ? solidPlanes(scene.width, scene.height, [0, 0, 0]) : own;
    const removed = paste(scene.mask, removedFill, scene.planes);
    this.remember(input.file, Promise.resolve(removed));
    const background =
      this.config.background === 'blur'
        ? own
        : solidPlanes(
            scene.width,
            scene.height,
            this.config.background === 'mean' ? await this.meanColour(signal) : [0, 0, 0],
          );
    const pictures: [ShortcutVariant, Float32Array][] = [
      ['original', scene.planes],
      ['objectOnly', paste(scene.mask, scene.planes, background)],
      ['objectRemoved', removed],
    ];
    const partners = this.partnersOf(input.file);
    const problems: string[] = [];
    for (const [variant, partner] of [
      ['swapRandom', partners.random],
      ['swapSame', partners.same],
    ] as const) {
      if (partner === undefined) continue;
      try {
        pictures.push([variant, paste(scene.mask, scene.planes, await this.backgroundOf(partner, signal))]);
      } catch (error) {
        if (signal?.aborted) throw error;
        problems.push(
          capText(`the background of '${partner}' could not be read: ${(error as Error).message}`, 500),
        );
      }
    }
    const outcomes = await this.score(
      pictures.map(([, planes]) => planes),
      input,
    );
    const variants: Partial<Record<ShortcutVariant, ShortcutOutcome>> = {};
    pictures.forEach(([variant], i) => {
      variants[variant] = outcomes[i];
    });
    const used = {
      ...(variants.swapRandom ? { random: partners.random } : {}),
      ...(variants.swapSame ? { same: partners.same } : {}),
    };
    return flagged(
      { index: input.target, label: labelOf(this.model, input.target) },
      variants,
      used,
      problems,
    );
  }

  /** The model's answers on each picture, in batches of at most its maxBatch. */
  private async score(pictures: readonly Float32Array[], input: ShortcutInput): Promise<ShortcutOutcome[]> {
    const { model } = this;
    const size = Math.max(1, model.maxBatch);
    const out: ShortcutOutcome[] = [];
    for (let start = 0; start < pictures.length; start += size) {
      throwIfAborted(input.signal);
      const inputs = pictures.slice(start, start + size).map((p) => toModelLayout(p, model.spec));
      const per = inputs[0].data.length;
      const data = new Float32Array(per * inputs.length);
      for (let i = 0; i < inputs.length; i++) data.set(inputs[i].data, i * per);
      const scores = await model.predict(
        { data, dims: [inputs.length, ...inputs[0].dims.slice(1)] },
        { signal: input.signal },
      );
      const k = scores.dims[1];
      for (let i = 0; i < inputs.length; i++) {
        const values = outputValues(scores.data.subarray(i * k, (i + 1) * k), model.spec);
        let top = 0;
        for (let c = 1; c < k; c++) if (values[c] > values[top]) top = c;
        out.push({
          probability: values[input.target],
          top: { index: top, label: labelOf(model, top), probability: values[top] },
          ...(input.expected !== undefined ? { correct: top === input.expected } : {}),
        });
      }
    }
    return out;
  }

  /** A partner's background with its own object filled in (as its 'object removed' variant). */
  private backgroundOf(file: string, signal: AbortSignal | undefined): Promise<Float32Array> {
    const known = this.backgrounds.get(file);
    if (known) return known;
    const source = this.sources.get(file);
    if (!source) return Promise.reject(new Error('it is not among the audited images'));
    const made = (async () => {
      const scene = await this.load(source, signal);
      const fill =
        this.config.removal === 'black'
          ? solidPlanes(scene.width, scene.height, [0, 0, 0])
          : blurredBackground(scene);
      return paste(scene.mask, fill, scene.planes);
    })();
    this.remember(file, made);
    // A failure is not kept: the next image that needs this background tries again.
    made.catch(() => this.backgrounds.delete(file));
    return made;
  }

  private remember(file: string, background: Promise<Float32Array>): void {
    this.backgrounds.delete(file);
    this.backgrounds.set(file, background);
    while (this.backgrounds.size > BACKGROUND_CACHE)
      this.backgrounds.delete(this.backgrounds.keys().next().value as string);
  }

  private async load(source: ShortcutSource, signal: AbortSignal | undefined): Promise<InputScene> {
    throwIfAborted(signal);
    const image = await source.load();
    const mask = await source.regionMask(image.width, image.height);
    return sceneAtInput(image, mask, this.model.spec);
  }

  /** The audit's mean colour at the model's input, over every image that can be read (grey when none can). */
  meanColour(signal?: AbortSignal): Promise<[number, number, number]> {
    this.datasetMean ??= (async () => {
      const sum = [0, 0, 0];
      let n = 0;
      for (const source of this.sources.values()) {
        throwIfAborted(signal);
        let colour: [number, number, number];
        try {
          colour = meanColour((await this.load(source, signal)).planes);
        } catch (error) {
          if (signal?.aborted) throw error;
          continue;
        }
        for (let c = 0; c < 3; c++) sum[c] += colour[c];
        n++;
      }
      return n > 0 ? [sum[0] / n, sum[1] / n, sum[2] / n] : [127.5, 127.5, 127.5];
    })();
    return this.datasetMean;
  }
}

/** The row part with its flags: relying on context (the answer survives the object's removal), fragility. */
export function flagged(
  target: ShortcutRowPart['target'],
  variants: Partial<Record<ShortcutVariant, ShortcutOutcome>>,
  partners: ShortcutRowPart['partners'],
  problems: readonly string[] = [],
): ShortcutRowPart {
  const original = variants.original;
  const removed = variants.objectRemoved;
  const reliesOnContext =
    original !== undefined &&
    removed !== undefined &&
    original.top.index === target.index &&
    removed.top.index === target.index;
  const changed = (['swapRandom', 'swapSame'] as const).filter(
    (v) =>
      original !== undefined && variants[v] !== undefined && variants[v].top.index !== original.top.index,
  );
  const flags: string[] = [];
  if (reliesOnContext) flags.push(`still predicts '${target.label}' with the object removed`);
  if (changed.length > 0) {
    const to = [...new Set(changed.map((v) => `'${variants[v]!.top.label}'`))].join(' or ');
    flags.push(`changes its answer when only the background changes (to ${to})`);
  }
  return {
    target,
    variants,
    partners,
    reliesOnContext,
    fragile: changed.length > 0,
    flags,
    ...(problems.length > 0 ? { problems } : {}),
  };
}
