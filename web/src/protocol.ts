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
import type { AuditReply, AuditRequest } from './audit-protocol.js';

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
  /** The model's bytes' digest and how they are read: what saved audit progress belongs to. */
  readonly identity: string;
  readonly inputSize: { width: number; height: number };
  /** Classes, tags or scores; a segmenter's classes; an embedding's length. */
  readonly classes: number;
  readonly task: ModelTask;
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
  /** A Hugging Face or timm folder: its configs say the preprocessing, so only the ONNX file may be asked. */
  readonly folder?: { readonly kind: string; readonly preprocessing: string };
  /** The folder's ONNX files (onnx/model.onnx, model_quantized.onnx, …), the default first. */
  readonly variants?: readonly { readonly label: string; readonly source: string }[];
  /** Its outputs look like an object detector's: the form asks the detect settings, pixels / 255 by default. */
  readonly detector?: boolean;
}

/** A segmenter's mask: the class of each output pixel (row-major), and the part of the photo the model saw. */
export interface Segmentation {
  readonly width: number;
  readonly height: number;
  readonly classes: Int32Array;
  /** The photo's pixels the model's input came from (the output grid covers this). */
  readonly crop: { readonly x: number; readonly y: number; readonly width: number; readonly height: number };
}

export type Request =
  | { readonly type: 'load-default'; readonly id: number }
  | {
      readonly type: 'inspect-model';
      readonly id: number;
      /**
       * One .onnx, .tflite or .zip file, a TF.js model's files, or a Hugging Face or timm folder's files; names
       * are paths inside a dropped folder ('my-model/onnx/model.onnx').
       */
      readonly files: readonly { readonly name: string; readonly bytes: ArrayBuffer }[];
      /**
       * A model folder (its files include a config.json): its ONNX files' paths, whose bytes `files` leaves out;
       * the page sends the chosen one's with open-model.
       */
      readonly onnx?: readonly string[];
    }
  | {
      readonly type: 'open-model';
      readonly id: number;
      /** Hints the user gave; labels already parsed on the page. */
      readonly hints: ModelHints;
      readonly name: string;
      /** A folder's ONNX file: one of the question's variants (its source) and its bytes. */
      readonly variant?: { readonly source: string; readonly bytes: ArrayBuffer };
    }
  | {
      readonly type: 'predict';
      readonly id: number;
      readonly image: RgbImage;
      /** An embedding model's reference photo, whose embedding the photo's is compared with. */
      readonly reference?: RgbImage;
    }
  | {
      readonly type: 'explain';
      readonly id: number;
      readonly image: RgbImage;
      readonly method: string;
      readonly target: number;
      readonly options?: MethodOptions;
      readonly reference?: RgbImage;
    }
  | { readonly type: 'cancel'; readonly id: number }
  | AuditRequest;

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
      readonly segmentation?: Segmentation;
      /** An embedding's length, and its cosine similarity to the reference photo when there is one. */
      readonly embedding?: { readonly dimensions: number; readonly cosine?: number };
    }
  | {
      readonly type: 'map';
      readonly id: number;
      readonly method: string;
      readonly target: { index: number; label: string };
      readonly options: MethodOptions;
      readonly map: AttributionMap;
      readonly ms: number;
      /** Said beside the map when the explained class or tag is unlikely (core/confidence.ts). */
      readonly note?: string;
    }
  | AuditReply
  | { readonly type: 'cancelled'; readonly id: number }
  | { readonly type: 'error'; readonly id: number; readonly code: string; readonly message: string };
