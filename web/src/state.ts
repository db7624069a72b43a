// The page's state and the events that change it. No DOM here: panels read `state` and report what happened
// through the functions below, so every change to the state has a name and one place.
import type {
  AttributionMap,
  Box,
  MethodOptions,
  Prediction,
  RegionAttention,
  RegionVerdict,
  RgbImage,
} from '../../src/browser.js';
import type { ModelInfo, ModelQuestion, Segmentation } from './protocol.js';

/** A map the worker drew, with what it was drawn for. */
export interface Explained {
  readonly map: AttributionMap;
  readonly method: string;
  readonly target: { index: number; label: string };
  readonly options: MethodOptions;
  /** The low-probability note, when the class or tag is unlikely. */
  readonly note?: string;
}

/** How much of the map falls in the user's boxes, and the verdict in words. */
export interface Region extends RegionVerdict {
  readonly attention: RegionAttention;
}

export interface AppState {
  readonly model?: ModelInfo;
  /** Settles once the model being opened is ready or has failed; a photo waits for it. */
  readonly modelReady: Promise<unknown>;
  /** Whether a model is being opened now (modelReady has not settled). */
  readonly opening: boolean;
  /** One warm forward pass of the model on this photo size, for time estimates. */
  readonly forwardMs?: number;
  readonly image?: RgbImage;
  /** The photo's file name without its extension, for download names. */
  readonly imageName: string;
  readonly predictions: readonly Prediction[];
  /** The photo the predictions are of (a detector's boxes are drawn only over their own photo). */
  readonly predictedFor?: RgbImage;
  /** A segmenter's mask of the photo. */
  readonly segmentation?: Segmentation;
  /** An embedding model's reference photo, and the embedding's length. */
  readonly reference?: RgbImage;
  readonly dimensions?: number;
  /** The class being explained. */
  readonly target?: number;
  readonly explained?: Explained;
  /** The worker call drawing a map now, so it can be cancelled. */
  readonly running?: number;
  readonly boxes: readonly Box[];
  readonly region?: Region;
  /** A dropped model waiting for the user's answers. */
  readonly question?: ModelQuestion;
  /** Whether the user picked the mode / colours, so a new map does not reset them. */
  readonly chosenMode: boolean;
  readonly chosenColormap: boolean;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const current: Mutable<AppState> = {
  modelReady: Promise.resolve(),
  opening: false,
  imageName: 'photo',
  predictions: [],
  boxes: [],
  chosenMode: false,
  chosenColormap: false,
};

export const state: AppState = current;

export function modelOpening(ready: Promise<unknown>): void {
  current.modelReady = ready;
  current.opening = true;
  void ready.finally(() => {
    if (current.modelReady === ready) current.opening = false;
  });
}

export function modelOpened(model: ModelInfo): void {
  current.model = model;
  current.forwardMs = undefined;
}

/** A new photo: what was drawn and marked on the last one no longer applies. */
export function photoTaken(image: RgbImage, fileName: string): void {
  current.image = image;
  current.imageName = fileName.replace(/\.[^.]+$/, '') || 'photo';
  current.explained = undefined;
  current.boxes = [];
  current.region = undefined;
  current.segmentation = undefined;
}

/** The model's classes for the photo; the top one is explained first. */
export function predicted(
  predictions: readonly Prediction[],
  forwardMs: number,
  more: { segmentation?: Segmentation; embedding?: { dimensions: number } } = {},
): void {
  current.forwardMs = forwardMs;
  current.predictions = predictions;
  current.predictedFor = current.image;
  current.segmentation = more.segmentation;
  current.dimensions = more.embedding?.dimensions;
  current.target = predictions[0]?.index;
}

export function referenceTaken(image: RgbImage): void {
  current.reference = image;
}

export function targetChosen(index: number): void {
  current.target = index;
}

export function mapExplained(explained: Explained): void {
  current.explained = explained;
}

export function runStarted(id: number): void {
  current.running = id;
}

/** A call ended; a later call that replaced it keeps running. */
export function runEnded(id: number): void {
  if (current.running === id) current.running = undefined;
}

export function boxAdded(box: Box): void {
  current.boxes = [...current.boxes, box];
}

export function boxesCleared(): void {
  current.boxes = [];
}

export function regionMeasured(region: Region | undefined): void {
  current.region = region;
}

export function modeChosen(): void {
  current.chosenMode = true;
}

export function colormapChosen(): void {
  current.chosenColormap = true;
}

export function questionAsked(question: ModelQuestion): void {
  current.question = question;
}

export function questionAnswered(): void {
  current.question = undefined;
}
