import type { Tensor } from './tensor.js';

/** How a model wants its input: geometry, layout, colour order and normalisation. */
export interface ModelSpec {
  /** Name of the image input tensor. */
  readonly inputName: string;
  readonly layout: 'NCHW' | 'NHWC';
  readonly width: number;
  readonly height: number;
  readonly channelOrder: 'RGB' | 'BGR';
  /** Per-channel mean and std in [0, 1] pixel units, applied as (pixel / 255 − mean) / std (torchvision's convention). */
  readonly mean: readonly [number, number, number];
  readonly std: readonly [number, number, number];
  /**
   * `squash` resizes the whole photo to width × height, so every pixel of it is explained;
   * `center-crop` resizes the shorter side to size / cropFraction and keeps the centre (Inception/ResNet evaluation).
   */
  readonly resize: 'squash' | 'center-crop';
  readonly cropFraction: number;
  /** Class names, index-aligned with the output scores (may be empty when none are known). */
  readonly labels: readonly string[];
  /** Whether the output scores are already probabilities (a softmax in the model), or logits. */
  readonly outputs: 'probabilities' | 'logits';
}

/** What a model can do; methods ask for these, never for an engine. */
export type Capability = 'predict' | 'inputGradients' | 'layers';

export interface RunOptions {
  readonly signal?: AbortSignal;
}

export interface Model {
  readonly spec: ModelSpec;
  readonly capabilities: ReadonlySet<Capability>;
  /** Largest batch one call may take; callers split larger work (see core/batch.ts). */
  readonly maxBatch: number;
  /** Scores [N, K] for a preprocessed batch shaped as the spec says (NCHW or NHWC). */
  predict(batch: Tensor, options?: RunOptions): Promise<Tensor>;
  dispose(): Promise<void>;
}
