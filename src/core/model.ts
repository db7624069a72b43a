import type { OutputTarget } from './targets.js';
import type { Tensor } from './tensor.js';

/**
 * What the model's outputs mean, which decides how they are read and what a target is:
 * 'classify': one label of K (softmax probabilities, or logits that a softmax turns into them);
 * 'multilabel': K independent tags, each a sigmoid probability (or its logit), never coupled by a softmax;
 * 'score': one or more regression outputs, explained raw and signed (what raises and what lowers the score);
 * 'segment': per-pixel class scores [N, C, h, w]; a target is one class summed over a region (core/targets.ts);
 * 'embed': an embedding [N, D]; a target is its cosine similarity to a reference vector (core/targets.ts);
 * 'detect': an object detector's boxes (models/detect-format.ts); a target is one detection, read through
 * every output at once (capability 'outputs', models/detect-target.ts).
 */
export type ModelTask = 'classify' | 'multilabel' | 'score' | 'segment' | 'embed' | 'detect';

export const MODEL_TASKS: readonly ModelTask[] = [
  'classify',
  'multilabel',
  'score',
  'segment',
  'embed',
  'detect',
];

/**
 * How a detector's outputs are read (task 'detect'); each field is a flag or a sidecar key, checked in
 * models/spec.ts. Absent fields take the format's own (models/detect-decode.ts).
 */
export interface DetectSettings {
  /** One of models/detect-format.ts DETECT_FORMATS; recognised from the outputs when absent. */
  readonly format?: string;
  /** A box convention as core/detection/boxes.ts parseBoxConvention reads it ('cxcywh', 'xyxy-normalized'). */
  readonly boxes?: string;
  readonly scoreThreshold?: number;
  readonly iouThreshold?: number;
}

/** One output of a model by name, as float32 (integer and boolean outputs converted), for capability 'outputs'. */
export interface ModelOutput {
  readonly name: string;
  readonly dims: readonly number[];
  readonly data: Float32Array;
}

/**
 * The largest input side a model may ask for, in pixels: preprocessing makes three float planes of it per
 * image, 200 MB at 4096 × 4096 but 43 GB at 60000 × 60000; image classifiers take a few hundred pixels a side.
 */
export const MAX_INPUT_SIDE = 4096;

export type ResampleFilter = 'bilinear' | 'bicubic' | 'nearest';

export const RESAMPLE_FILTERS: readonly ResampleFilter[] = ['bilinear', 'bicubic', 'nearest'];

/**
 * Resize the whole photo, then cut the model's input from its centre. 'shortest-edge': the shorter side becomes
 * `size` and the longer floor(size · long / short) (transformers' get_resize_output_image_size, torchvision's
 * Resize(int)); 'fixed': width × height. The cut starts at floor((resized − input) / 2) (transformers'
 * center_crop) or at that rounded half to even (torchvision's CenterCrop, which timm uses).
 */
export type ResizeFirst = (
  | { readonly kind: 'shortest-edge'; readonly size: number }
  | { readonly kind: 'fixed'; readonly width: number; readonly height: number }
) & { readonly offset: 'floor' | 'round' };

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
   * `center-crop` resizes the shorter side to size / cropFraction and keeps the centre (Inception/ResNet evaluation);
   * `letterbox` resizes the whole photo keeping its aspect so it fits, centred on gray (114) padding (Ultralytics).
   */
  readonly resize: 'squash' | 'center-crop' | 'letterbox';
  readonly cropFraction: number;
  /**
   * The resampling filter, as PIL's resize computes it (default 'bilinear'): bilinear and bicubic (a = −0.5)
   * widen their support by the scale when shrinking (antialiased); 'nearest' takes one pixel per output.
   */
  readonly resample?: ResampleFilter;
  /**
   * When set, the whole photo is first resized as it says and width × height is then cut from the centre of
   * the result (Hugging Face image processors, timm): what `resize` and `cropFraction` only approximate.
   */
  readonly resizeFirst?: ResizeFirst;
  /** Class names, index-aligned with the output scores (may be empty when none are known). */
  readonly labels: readonly string[];
  /**
   * Whether the output scores are already probabilities (a softmax for 'classify', a sigmoid for 'multilabel'
   * in the model), or logits; a 'score' model's outputs are read raw either way.
   */
  readonly outputs: 'probabilities' | 'logits';
  readonly task: ModelTask;
  /**
   * The first output's dims after the batch ([C, h, w] for a segmenter, [D] for an embedding), where known:
   * the scores are these flattened to [N, K]. Undefined when the model does not say (a predict-only model).
   */
  readonly outputShape?: readonly number[];
  /** Task 'detect': how the outputs are read. */
  readonly detect?: DetectSettings;
}

/**
 * What a model can do; methods and metrics ask for these, never for an engine. 'weights': its weights can be
 * listed, read and replaced (the model-randomization sanity check). 'attention': a transformer's attention
 * probabilities can be read, with their gradients (attention rollout). 'outputs': every output of the model
 * by name in one run (a detector's boxes, scores and classes).
 */
export type Capability =
  | 'predict'
  | 'inputGradients'
  | 'layers'
  | 'weights'
  | 'attention'
  | 'outputs'
  | 'backwardRules'
  | 'biasGradients';

export interface RunOptions {
  readonly signal?: AbortSignal;
}

/**
 * Which backward pass an input gradient comes from (capability 'backwardRules'): 'exact', the true gradient;
 * 'guided-backprop' and 'deconvnet', the ReLU-family rules of Springenberg et al. 2015 and Zeiler & Fergus 2014
 * (engines/onnx/autodiff/rules/modified-relu.ts says which ops each replaces); 'deeplift', DeepLIFT's Rescale
 * rule (Shrikumar et al. 2017; rules/rescale.ts), for which a batch of 2n holds n inputs and then their n
 * references, and the gradient of the first half is the multipliers m, so (x − x₀) ⊙ m sums to f(x) − f(x₀).
 * 'lrp-…': layer-wise relevance propagation's rules as modified gradients (rules/lrp.ts), relevance x ⊙ g;
 * with 'lrp-composite' a batch of 3n holds the inputs, then their lowest and their highest values (zβ's bounds),
 * and the relevance is the sum of each third times its gradient.
 */
export type BackwardRules =
  | 'exact'
  | 'guided-backprop'
  | 'deconvnet'
  | 'deeplift'
  | 'lrp-epsilon'
  | 'lrp-gamma'
  | 'lrp-zplus'
  | 'lrp-alpha2-beta1'
  | 'lrp-alpha1-beta0'
  | 'lrp-composite';

export const BACKWARD_RULES: readonly BackwardRules[] = [
  'exact',
  'guided-backprop',
  'deconvnet',
  'deeplift',
  'lrp-epsilon',
  'lrp-gamma',
  'lrp-zplus',
  'lrp-alpha2-beta1',
  'lrp-alpha1-beta0',
  'lrp-composite',
];

export interface GradientOptions extends RunOptions {
  /** Default 'exact'; others need capability 'backwardRules' and are refused on a model without the ops they change. */
  readonly rules?: BackwardRules;
}

/** One layer's bias term for FullGrad (capability 'biasGradients'). */
export interface BiasGradient {
  /** The tensor the bias is added into (a Conv's, Gemm's or BatchNormalization's output, or an Add's). */
  readonly layer: string;
  readonly op: string;
  /** ∂ Σ(seed ⊙ scores) / ∂ layer ⊙ bias, shaped as the layer's output, e.g. [N, C, h, w] or [N, K]. */
  readonly gradients: Tensor;
}

export interface BiasGradientResult extends GradientResult {
  /** Every bias on the path from the input to the scores, input side first. */
  readonly biases: readonly BiasGradient[];
}

export interface GradientResult {
  /** Scores [N, K]. */
  readonly scores: Tensor;
  /** ∂ Σ(seed ⊙ scores) / ∂ input, shaped as the input batch. */
  readonly gradients: Tensor;
}

export interface LayerResult {
  readonly scores: Tensor;
  /** The layer's activations, e.g. [N, C, h, w]. */
  readonly activations: Tensor;
  /** ∂ Σ(seed ⊙ scores) / ∂ activations; absent when no seed was given (activations only). */
  readonly gradients?: Tensor;
  /** With seed 'top': the class each image's gradients are for, the first of its highest scores. */
  readonly seeded?: readonly number[];
}

/**
 * What Model.layer's gradients are of: Σ(seed ⊙ scores) for a seed [N, K]; 'top', each image's highest score
 * (the first of equal ones), chosen within the same pass, so no earlier pass is needed to choose it; null,
 * none (activations only).
 */
export type LayerSeed = Tensor | null | 'top';

/** A tensor inside the model that the CAM family can look at. */
export interface LayerInfo {
  readonly name: string;
  /** The tensor's dimensions with batch 1, e.g. [1, C, h, w], [1, T, C] or [1, h, w, C]. */
  readonly dims: readonly number[];
  /**
   * 'map' [N, C, h, w] (the default when absent); 'tokens' [N, T, C], T = extraTokens + h·w (a transformer's
   * sequence, class and other extra tokens first); 'channels-last' [N, h, w, C] (Swin). Model.layer returns
   * every kind as [N, C, h, w] on the grid, extra tokens dropped.
   */
  readonly kind?: 'map' | 'tokens' | 'channels-last';
  /** The spatial grid [h, w] the layer's positions lie on. */
  readonly grid?: readonly [number, number];
  /** Tokens besides the patch tokens (class, distillation, register tokens); 'tokens' layers only. */
  readonly extraTokens?: number;
  /**
   * Where the extra tokens are: 'end' when the graph appends its learned token after the patch tokens (the
   * learned tensor is the Concat's last input); before them otherwise (absent), as ViTs mostly put them.
   */
  readonly extraTokensAt?: 'end';
}

/** A transformer's attention, block by block (capability 'attention'). */
export interface AttentionResult {
  readonly scores: Tensor;
  /** Per block in graph order, the attention probabilities [N, heads, T, T] (each row sums to 1). */
  readonly probabilities: readonly Tensor[];
  /** ∂ Σ(seed ⊙ scores) / ∂ probabilities, per block; absent when no seed was given. */
  readonly gradients?: readonly Tensor[];
  /** The patch grid; T = extraTokens + grid[0]·grid[1], token 0 being the class token. */
  readonly grid: readonly [number, number];
  readonly extraTokens: number;
}

/** A layer on the path from the input to the scores that reads weights (capability 'weights'). */
export interface WeightLayer {
  /** The layer's name as the model file gives it. */
  readonly name: string;
  /** What it computes, as the model format names it (ONNX: 'Conv', 'Gemm', …). */
  readonly op: string;
  /** The weight tensors (weights, biases) it reads, by name; each belongs to one layer only. */
  readonly weights: readonly string[];
}

/** Replacement values for a weight tensor, or undefined to keep it (see Model.withWeights). */
export type WeightReplacer = (
  name: string,
  values: Float32Array,
  dims: readonly number[],
) => Float32Array | undefined;

export interface Model {
  readonly spec: ModelSpec;
  readonly capabilities: ReadonlySet<Capability>;
  /** What a user should know about this model, in words (e.g. why a TF.js model runs predict-only). */
  readonly notes?: readonly string[];
  /** Largest batch one call may take; callers split larger work (see core/batch.ts). */
  readonly maxBatch: number;
  /** Scores [N, K] for a preprocessed batch shaped as the spec says (NCHW or NHWC). */
  predict(batch: Tensor, options?: RunOptions): Promise<Tensor>;
  /**
   * Capability 'inputGradients'. `seed` [N, K] weights the outputs, chosen at run time (one-hot for a class,
   * or any mix), so one prepared graph serves every target.
   */
  inputGradients?(batch: Tensor, seed: Tensor, options?: GradientOptions): Promise<GradientResult>;
  /**
   * Capability 'biasGradients': the input gradient with every bias's gradient contribution (FullGrad's
   * bias-gradients, Srinivas & Fleuret 2019): for a piecewise-linear network, Σ gradients ⊙ input + Σ over
   * the biases of their sums is the seeded score exactly.
   */
  biasGradients?(batch: Tensor, seed: Tensor, options?: RunOptions): Promise<BiasGradientResult>;
  /**
   * Capability 'layers': feature maps, token sequences and channels-last maps in graph order (LayerInfo.kind),
   * and the default one (a CNN's last map before pooling, a ViT's last block's normalised input).
   */
  layers?(): Promise<{ readonly layers: readonly LayerInfo[]; readonly defaultLayer: string }>;
  /** Capability 'layers': a layer's activations, and with a seed its gradients, as [N, C, h, w]. */
  layer?(name: string, batch: Tensor, seed: LayerSeed, options?: RunOptions): Promise<LayerResult>;
  /**
   * Capability 'layers', where the engine can rewrite its graph: the scores [N, K] with the layer's channels
   * multiplied by `scale` [N, C] (0 removes a channel, 1 keeps it) and the rest of the model run on the
   * result, e.g. AblationCAM. Absent on models that can read layers but not change them.
   */
  ablate?(layer: string, batch: Tensor, scale: Tensor, options?: RunOptions): Promise<Tensor>;
  /**
   * Capability 'attention': every block's attention probabilities over the whole token sequence, with their
   * gradients when a seed is given. Refused (MODEL_SHAPE) for attention in local windows or without a class token.
   */
  attention?(batch: Tensor, seed: Tensor | null, options?: RunOptions): Promise<AttentionResult>;
  /** Capability 'outputs': every output of the model, in the file's order, for a preprocessed batch. */
  outputs?(batch: Tensor, options?: RunOptions): Promise<readonly ModelOutput[]>;
  /** Capability 'weights': the layers that read weights, from the output back to the input. */
  weightLayers?(): readonly WeightLayer[];
  /** Capability 'weights': the values of one of the layers' weight tensors, by name. */
  weightValues?(name: string): Float32Array;
  /**
   * Capability 'weights': the same model with some weight tensors replaced; `replace` sees each one's name,
   * values and dims and returns values of the same length, or undefined to keep them. The caller disposes it.
   * `variable`: the tensors that this call and later ones (with the same list) replace, the others' new values
   * staying the same arrays; an engine may then read them at run time, so the calls share one prepared model.
   */
  withWeights?(replace: WeightReplacer, options?: { readonly variable?: readonly string[] }): Promise<Model>;
  /**
   * A model whose one output is `target`'s scalar [N, 1], computed inside the engine's graph so its gradients
   * and layers pass through it (the ONNX engine appends a head); `spec` is the new model's. Callers use
   * core/targets.ts withTarget, which falls back to evaluating the target over predict. The caller disposes it.
   */
  withTargetHead?(target: OutputTarget, spec: ModelSpec): Promise<Model>;
  dispose(): Promise<void>;
}
