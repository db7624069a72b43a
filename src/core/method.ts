import type { AttributionMap } from './attribution.js';
import type { Capability, Model } from './model.js';
import type { ProgressCallback } from './progress.js';
import type { Tensor } from './tensor.js';

/** What every method receives: one preprocessed image and the class to explain. */
export interface MethodInput {
  readonly model: Model;
  /** One image, batch axis of 1, in the model's layout and normalisation. */
  readonly input: Tensor;
  /** Index of the output score to explain. */
  readonly target: number;
  /** Number of output scores K (the width of a seed). */
  readonly classes: number;
  /** The layer the CAM family reads; the model's default when absent. */
  readonly layer?: string;
  /** A custom reference input (same shape as `input`) for methods that take a baseline image. */
  readonly baselineInput?: Tensor;
  readonly signal?: AbortSignal;
  readonly onProgress?: ProgressCallback;
}

/** A method option's value: a number, or one of a fixed set of words. */
export type OptionValue = number | string;
export type MethodOptions = Record<string, OptionValue>;

/** Describes an option so the CLI, the web app and docs are generated from one place. */
export interface OptionSpec {
  readonly type: 'int' | 'number' | 'choice';
  readonly description: string;
  readonly min?: number;
  readonly max?: number;
  /** The allowed words, for type 'choice'. */
  readonly choices?: readonly string[];
}

export interface AttributionMethod<O extends MethodOptions = MethodOptions> {
  readonly id: string;
  readonly title: string;
  /** One line for `--list-methods` and menus. */
  readonly description: string;
  readonly requires: readonly Capability[];
  /** Whether the method draws random numbers (and so takes a seed). */
  readonly random: boolean;
  readonly defaults: Readonly<O>;
  readonly options: { readonly [K in keyof O]: OptionSpec };
  /** How many model inputs one map costs with these options (for progress, ETA and benchmarks). */
  passes(options: O, input: { width: number; height: number }): number;
  /** The map at the model's input resolution. Options are complete and validated (see methods/registry.ts). */
  attribute(input: MethodInput, options: O): Promise<AttributionMap>;
  /**
   * For methods that are a function of one input gradient (vanilla gradient, gradient × input): the map from
   * an image and its gradient, so wrappers such as the noise tunnel can batch many inputs into one call.
   */
  fromGradient?(image: Float32Array, gradient: Float32Array, input: MethodInput): AttributionMap;
}
