// The messages between the page and the engine worker. The worker owns the model and ONNX Runtime; the page
// owns the photo, the drawing and the words. Everything crossing is plain data (structured clone).
import type {
  AttributionMap,
  MethodOptions,
  ModelHints,
  ModelTask,
  Prediction,
  RgbImage,
} from '../../src/browser.js';

/** What the page knows of a method, from the registry (so menus come from one source of truth). */
export interface MethodInfo {
  readonly id: string;
  readonly title: string;
  readonly description: string;
  /** Model passes one map costs with the defaults; gradient passes count a few times a forward pass. */
  readonly passes: number;
  readonly usesGradients: boolean;
  /** Whether most passes are gradient passes (Score-CAM reads a layer once, then runs plain forward passes). */
  readonly gradientPasses: boolean;
  /** Whether the loaded model offers what the method needs. */
  readonly available: boolean;
  /** Why not, in words, when it is not. */
  readonly unavailableReason?: string;
}

export interface ModelInfo {
  readonly name: string;
  readonly inputSize: { width: number; height: number };
  readonly classes: number;
  readonly methods: readonly MethodInfo[];
  /** How the engine runs: 'wasm (4 threads)', 'webgpu', … */
  readonly backend: string;
}

/** What the page must ask the user about a dropped model before it can be used. */
export interface ModelQuestion {
  readonly fileName: string;
  readonly inputs: readonly { name: string; dims: readonly (number | string)[] }[];
  /** Filled from the file where it says so; undefined where the user must answer. */
  readonly width?: number;
  readonly height?: number;
  readonly layout?: 'NCHW' | 'NHWC';
  /**
   * A quantized TFLite input, or a Teachable Machine metadata.json, implies its own normalisation; the page
   * then offers "as the model says".
   */
  readonly normalizationFromModel: boolean;
  /** The files say everything (a Teachable Machine export: input size, pixel scaling, labels): nothing to ask. */
  readonly complete: boolean;
}

export type Request =
  | { readonly type: 'load-default'; readonly id: number }
  | {
      readonly type: 'inspect-model';
      readonly id: number;
      /** One .onnx, .tflite or .zip file, or a TF.js model's files dropped together. */
      readonly files: readonly { readonly name: string; readonly bytes: ArrayBuffer }[];
    }
  | {
      readonly type: 'open-model';
      readonly id: number;
      /** Hints the user gave; labels already parsed on the page. */
      readonly hints: ModelHints;
      readonly name: string;
    }
  | { readonly type: 'predict'; readonly id: number; readonly image: RgbImage }
  | {
      readonly type: 'explain';
      readonly id: number;
      readonly image: RgbImage;
      readonly method: string;
      readonly target: number;
      readonly options?: MethodOptions;
    }
  | { readonly type: 'cancel'; readonly id: number };

export type Reply =
  | { readonly type: 'status'; readonly id: number; readonly message: string }
  | { readonly type: 'progress'; readonly id: number; readonly done: number; readonly total: number }
  | { readonly type: 'model'; readonly id: number; readonly model: ModelInfo }
  | { readonly type: 'question'; readonly id: number; readonly question: ModelQuestion }
  | {
      readonly type: 'predictions';
      readonly id: number;
      readonly predictions: readonly Prediction[];
      /** How to show them: class and tag probabilities as percentages, scores as numbers. */
      readonly task: ModelTask;
      /** Milliseconds one forward pass took, for time estimates. */
      readonly forwardMs: number;
    }
  | {
      readonly type: 'map';
      readonly id: number;
      readonly method: string;
      readonly target: { index: number; label: string };
      readonly options: MethodOptions;
      readonly map: AttributionMap;
      readonly ms: number;
    }
  | { readonly type: 'cancelled'; readonly id: number }
  | { readonly type: 'error'; readonly id: number; readonly code: string; readonly message: string };
