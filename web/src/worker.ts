// The engine worker: holds the model and onnxruntime-web, so inference never freezes the page.
import {
  blackBoxMethods,
  type ConvertedTfliteModel,
  configureWebRuntime,
  convertTfjsSource,
  convertTfliteModel,
  defaultModelHints,
  explain,
  type FolderConfig,
  imageInputShape,
  METHODS,
  type Model,
  type ModelHints,
  metadataHints,
  modelInputs,
  type NamedBytes,
  type OnnxModelOptions,
  openConvertedTflite,
  openOnnxModel,
  preprocess,
  readTfjsDropped,
  SightlineError,
} from '../../src/browser.js';
import { runAudit } from './audit-run.js';
import { detectView, looksLikeDetector } from './detect-view.js';
import { type FolderVariant, readFolder, refuseLabelCount, refuseUnsupported } from './folder.js';
import { browserGraphCache } from './graph-cache.js';
import { openInTurn } from './one-run.js';
import type { MethodInfo, ModelInfo, Reply, Request } from './protocol.js';
import { mapNote, taskView } from './task-view.js';

/** The worker's global scope, declared here because the DOM and WebWorker type libraries cannot both be loaded. */
declare const self: {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  onmessage: ((event: MessageEvent<Request>) => void) | null;
  readonly crossOriginIsolated: boolean;
  readonly location: Location;
};

const threads = self.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1;
configureWebRuntime({ wasmPaths: new URL('./ort/', self.location.href).href, threads });

let model: Model | undefined;
let modelName = '';
/** Names the current model and how it is read (its bytes' digest and the hints), for saved audit progress. */
let modelIdentity = '';
/** One forward pass of the current model, measured after its first (slower) run. */
let warmForwardMs: number | undefined;
let backend = '';
/** A dropped model waiting for the user's answers (input size, normalisation). */
interface Pending {
  readonly fileName: string;
  readonly onnx: Uint8Array;
  readonly tflite?: ConvertedTfliteModel;
  /** Names the model's stored gradient graphs (see digest). */
  readonly identity: string;
  /** What the files said (a TF.js metadata.json); the user's answers win over it. */
  readonly hints?: ModelHints;
  /** A model folder's ONNX files, for the user to pick one; `onnx` is the first. */
  readonly variants?: readonly FolderVariant[];
  /** A model folder's configs, whose labels are checked against the ONNX file picked. */
  readonly config?: FolderConfig;
}
let pending: Pending | undefined;
const running = new Map<number, AbortController>();

const post = (reply: Reply) => self.postMessage(reply);

self.onmessage = async (event: MessageEvent<Request>) => {
  const request = event.data;
  if (request.type === 'cancel') {
    running.get(request.id)?.abort();
    return;
  }
  const controller = new AbortController();
  running.set(request.id, controller);
  try {
    await handle(request, controller.signal);
  } catch (error) {
    if (controller.signal.aborted) post({ type: 'cancelled', id: request.id });
    else post(errorReply(request.id, error));
  } finally {
    running.delete(request.id);
  }
};

async function handle(request: Exclude<Request, { type: 'cancel' }>, signal: AbortSignal): Promise<void> {
  const { id } = request;
  const status = (message: string) => post({ type: 'status', id, message });
  switch (request.type) {
    case 'load-default': {
      status('Downloading the ImageNet model from this computer (24 MB)…');
      const [tflite, labels] = await Promise.all([
        fetchBytes('models/default/graph.lite'),
        fetchText('models/default/labels.txt'),
      ]);
      status('Converting the model (TFLite → ONNX)…');
      const converted = convertTfliteModel(tflite);
      status('Starting the model…');
      const identity = await digest(tflite);
      const options = engineOptions(identity);
      await useModel(
        () => openConvertedTflite(converted, defaultModelHints(labels), options),
        'ImageNet InceptionV3 (built in)',
        identity,
      );
      post({ type: 'model', id, model: describe() });
      return;
    }
    case 'inspect-model': {
      const files = request.files.map((f) => ({ name: f.name, bytes: new Uint8Array(f.bytes) }));
      if (request.onnx) {
        await inspectFolder(id, files, request.onnx);
        return;
      }
      if (files.some((f) => /\.(zip|json)$/i.test(f.name))) {
        await inspectTfjs(id, files, status);
        return;
      }
      await inspectOnnx(id, files);
      return;
    }
    case 'open-model': {
      const chosen = pending;
      if (!chosen) throw new SightlineError('INVALID_ARGUMENT', 'No dropped model is waiting to be opened.');
      status(`Starting '${chosen.fileName}'…`);
      if (chosen.variants && !request.variant)
        throw new SightlineError(
          'INVALID_ARGUMENT',
          `No ONNX file of '${chosen.fileName}' was read to open.`,
        );
      const variant = chosen.variants && pickVariant(chosen.variants, request.variant?.source);
      const onnx = request.variant ? new Uint8Array(request.variant.bytes) : chosen.onnx;
      if (variant) {
        refuseUnsupported(onnx, variant.label);
        imageInput(modelInputs(onnx, variant.label), variant.label);
      }
      const identity = variant ? await digest(onnx) : chosen.identity;
      const options = engineOptions(identity);
      const hints = { ...chosen.hints, ...request.hints };
      await useModel(
        () =>
          chosen.tflite
            ? openConvertedTflite(chosen.tflite, hints, options)
            : openOnnxModel(onnx, hints, options),
        request.name,
        `${identity} ${JSON.stringify(hints)}`,
        // The folder's labels against the file's scores, as the command line checks them; labels typed win.
        variant && chosen.config && !request.hints.labels
          ? (opened) => refuseLabelCount(chosen.config as FolderConfig, opened, variant.label)
          : undefined,
      );
      pending = undefined;
      post({ type: 'model', id, model: describe() });
      return;
    }
    case 'predict': {
      const current = requireModel();
      if (current.spec.task === 'detect') {
        const view = await detectView(current, request.image, signal, warmForwardMs !== undefined);
        warmForwardMs = view.forwardMs;
        post({ type: 'predictions', id, ...view, task: 'detect' });
        return;
      }
      const { tensor, geometry } = preprocess(request.image, current.spec);
      let started = performance.now();
      const scores = await current.predict(tensor, { signal });
      if (warmForwardMs === undefined) {
        // A session's first run includes one-off set-up; time estimates need a warm pass.
        started = performance.now();
        await current.predict(tensor, { signal });
      }
      warmForwardMs = performance.now() - started;
      const view = await taskView(current, scores, geometry, request.reference, signal);
      post({ type: 'predictions', id, ...view, task: current.spec.task, forwardMs: warmForwardMs });
      return;
    }
    case 'explain': {
      const current = requireModel();
      const started = performance.now();
      const result = await explain({
        model: current,
        image: request.image,
        method: request.method,
        target: request.target,
        options: request.options,
        reference: request.reference,
        signal,
        onProgress: (p) => post({ type: 'progress', id, done: p.done, total: p.total }),
      });
      const reply: Reply = {
        type: 'map',
        id,
        method: result.method,
        target: result.target,
        options: result.options,
        map: result.map,
        ms: performance.now() - started,
        note: mapNote(current, result),
      };
      self.postMessage(reply, [result.map.data.buffer as ArrayBuffer]);
      return;
    }
    case 'audit':
      await runAudit(request, requireModel(), signal, post);
      return;
  }
}

/** One ONNX or TFLite file (TFLite is converted to ONNX here); its input names what there is to ask. */
async function inspectOnnx(id: number, files: NamedBytes[]): Promise<void> {
  if (files.length !== 1) {
    throw new SightlineError(
      'MODEL_LOAD',
      `Dropped together: ${files.map((f) => f.name).join(', ')}. Drop one ONNX or TFLite file, or a TF.js model's files (model.json, its weights, metadata.json).`,
    );
  }
  const [{ name: fileName, bytes }] = files;
  if (/\.bin$/i.test(fileName)) {
    throw new SightlineError(
      'MODEL_LOAD',
      `'${fileName}' holds the weights of a TF.js model: drop it together with model.json and metadata.json, or drop the model's .zip.`,
    );
  }
  const tflite = isTflite(bytes) ? convertTfliteModel(bytes) : undefined;
  const onnx = tflite ? tflite.bytes : bytes;
  let inputs: ReturnType<typeof modelInputs>;
  try {
    inputs = modelInputs(onnx);
  } catch (cause) {
    throw new SightlineError(
      'MODEL_LOAD',
      `'${fileName}' is neither an ONNX nor a TFLite model: ${(cause as Error).message}`,
      {},
      { cause },
    );
  }
  // A converted TFLite model is NHWC whatever its dims look like (tfliteHints says so too). A detector's own
  // scaling is the library's (pixels / 255, letterboxed, as Ultralytics and torchvision exports take them).
  const detector = !tflite && looksLikeDetector(onnx);
  await ask(id, {
    dropped: { fileName, onnx, tflite },
    identityOf: bytes,
    inputs,
    layout: tflite ? 'NHWC' : undefined,
    normalizationFromModel: Boolean(tflite?.quantizedInput) || detector,
    detector,
    labelsKnown: false,
  });
}

/**
 * A Hugging Face or timm folder: its configs say the size, the scaling and the labels, so only the ONNX file is
 * asked, when the folder has several (model.onnx, model_quantized.onnx, model_fp16.onnx).
 */
async function inspectFolder(id: number, files: NamedBytes[], onnx: readonly string[]): Promise<void> {
  const folder = readFolder(files, onnx);
  const { hints } = folder.config;
  pending = {
    fileName: folder.name,
    onnx: new Uint8Array(),
    hints,
    identity: '',
    variants: folder.variants,
    config: folder.config,
  };
  post({
    type: 'question',
    id,
    question: {
      fileName: folder.name,
      inputs: [],
      width: hints.width,
      height: hints.height,
      layout: 'NCHW',
      normalizationFromModel: true,
      complete: folder.variants.length === 1,
      folder: {
        kind: folder.config.kind === 'timm' ? 'timm' : 'Hugging Face',
        preprocessing: folder.config.preprocessing,
      },
      variants: folder.variants,
    },
  });
}

function pickVariant(variants: readonly FolderVariant[], source: string | undefined): FolderVariant {
  const found = variants.find((v) => v.source === source);
  if (!found)
    throw new SightlineError('INVALID_ARGUMENT', `The dropped folder has no ONNX file '${source}'.`);
  return found;
}

/**
 * A TF.js model (a Teachable Machine .zip, or model.json with its weights and metadata.json), converted to
 * ONNX here with the library's converter (TF.js itself is never loaded in the browser). A Teachable Machine
 * export says everything the form would ask, so the question comes back complete.
 */
async function inspectTfjs(
  id: number,
  files: NamedBytes[],
  status: (message: string) => void,
): Promise<void> {
  status('Reading the TF.js model…');
  const source = await readTfjsDropped(files);
  const fileName = files.length === 1 ? files[0].name : (source.metadata?.modelName ?? source.location);
  const size = source.metadata?.imageSize;
  status(`Converting '${fileName}' (TF.js → ONNX)…`);
  const converted = convertTfjsSource(source, size ? { width: size, height: size } : undefined);
  if ('reason' in converted) {
    throw new SightlineError(
      'UNSUPPORTED_OP',
      `'${fileName}' cannot run in the browser yet: ${converted.reason}. The browser runs TF.js Layers models whose layers convert to ONNX: Teachable Machine image models, models saved with TF.js' model.save(), Keras models converted with tensorflowjs_converter (docs/tfjs-models.md lists the layers). The command line runs this one for predictions only (${blackBoxMethods()
        .map((m) => m.id)
        .join(', ')}): sightline explain photo.jpg --model ${files.length === 1 ? fileName : 'its-folder/'}`,
      { reason: converted.reason },
    );
  }
  const hints = metadataHints(source.metadata);
  await ask(id, {
    dropped: { fileName, onnx: converted.onnx, hints: { ...hints, layout: 'NHWC' } },
    identityOf: converted.onnx,
    inputs: modelInputs(converted.onnx),
    layout: 'NHWC',
    normalizationFromModel: hints.mean !== undefined,
    labelsKnown: hints.labels !== undefined,
  });
}

/**
 * Keeps a dropped model until the user answers, and posts what to ask them: the input size and layout where
 * the model fixes them, and whether its files already say how to scale pixels. A question is complete (nothing
 * to ask) when the files say the size, the scaling and the labels.
 */
async function ask(
  id: number,
  about: {
    readonly dropped: Omit<Pending, 'identity'>;
    /** The bytes whose digest names the model's stored gradient graphs. */
    readonly identityOf: Uint8Array;
    readonly inputs: ReturnType<typeof modelInputs>;
    /** The layout the format implies (TFLite and TF.js are NHWC); otherwise read from the input's dims. */
    readonly layout: 'NHWC' | undefined;
    readonly normalizationFromModel: boolean;
    readonly labelsKnown: boolean;
    readonly detector?: boolean;
  },
): Promise<void> {
  const { dropped, inputs, normalizationFromModel, detector } = about;
  const { fileName } = dropped;
  const shape = imageInputShape(imageInput(inputs, fileName).dims, about.layout);
  pending = { ...dropped, identity: await digest(about.identityOf) };
  const complete =
    shape.width !== undefined && shape.height !== undefined && normalizationFromModel && about.labelsKnown;
  const question = { fileName, inputs, ...shape, normalizationFromModel, complete, detector };
  post({ type: 'question', id, question });
}

/** The one image input ([N, 3, H, W] or [N, H, W, 3]) a classifier must have. */
function imageInput(
  inputs: ReturnType<typeof modelInputs>,
  fileName: string,
): ReturnType<typeof modelInputs>[number] {
  const images = inputs.filter((i) => i.dims.length === 4);
  if (images.length !== 1 || inputs.length !== 1) {
    throw new SightlineError(
      'MODEL_SHAPE',
      `'${fileName}' has inputs ${inputs.map((i) => `'${i.name}' [${i.dims.join(', ')}]`).join(', ')}; ` +
        'expected one image input of rank 4 ([N, 3, H, W] or [N, H, W, 3]).',
    );
  }
  return images[0];
}

/** Opens a model and makes it the current one, unless `check` refuses it (the current one then stays). */
async function useModel(
  open: () => Promise<Model>,
  name: string,
  identity: string,
  check?: (opened: Model) => void,
): Promise<void> {
  const next = await open().catch(async (error) => {
    // WebGPU may refuse a graph the wasm backend runs; try once more on the CPU before giving up.
    if (backend !== 'webgpu') throw error;
    backend = 'wasm';
    return open();
  });
  try {
    check?.(next);
  } catch (error) {
    await next.dispose();
    throw error;
  }
  const previous = model;
  model = next;
  warmForwardMs = undefined;
  modelName = name;
  modelIdentity = identity;
  await previous?.dispose();
}

function engineOptions(identity: string): OnnxModelOptions {
  backend = backend || 'wasm';
  return {
    maxBatch: 8,
    gradientCache: browserGraphCache(identity),
    openSession: openInTurn,
    ...(backend === 'webgpu' ? { executionProviders: ['webgpu', 'wasm'] } : {}),
  };
}

function describe(): ModelInfo {
  const current = requireModel();
  const size = { width: current.spec.width, height: current.spec.height };
  const methods: MethodInfo[] = METHODS.map((m) => {
    const missing = m.requires.filter((c) => !current.capabilities.has(c));
    return {
      id: m.id,
      title: m.title,
      description: m.description,
      passes: m.passes(m.defaults, size),
      usesGradients: m.requires.some((c) => c !== 'predict'),
      // A method that also asks for 'predict' (Score-CAM) spends its passes on forward runs.
      gradientPasses: m.requires.some((c) => c !== 'predict') && !m.requires.includes('predict'),
      available: missing.length === 0,
      unavailableReason: missing.length > 0 ? 'needs gradients, which this model does not offer' : undefined,
    };
  });
  const { task, outputShape } = current.spec;
  return {
    name: modelName,
    identity: modelIdentity,
    inputSize: size,
    classes:
      task === 'classify' || task === 'detect'
        ? current.spec.labels.length
        : (outputShape?.[0] ?? current.spec.labels.length),
    task,
    methods,
    backend: backend === 'webgpu' ? 'WebGPU' : `WebAssembly, ${threads} thread${threads > 1 ? 's' : ''}`,
  };
}

function requireModel(): Model {
  if (!model) throw new SightlineError('MODEL_LOAD', 'No model is loaded yet.');
  return model;
}

/** Names a model's stored gradient graphs by its content, so two files called model.onnx never share them. */
async function digest(bytes: Uint8Array): Promise<string> {
  const hash = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  return Array.from(hash.subarray(0, 12), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** TFLite flatbuffers carry the identifier 'TFL3' at bytes 4–7. */
function isTflite(bytes: Uint8Array): boolean {
  return bytes.length > 8 && String.fromCharCode(...bytes.subarray(4, 8)) === 'TFL3';
}

async function fetchBytes(path: string): Promise<Uint8Array> {
  const response = await fetch(path);
  if (!response.ok) throw fetchError(path, response);
  return new Uint8Array(await response.arrayBuffer());
}

async function fetchText(path: string): Promise<string> {
  const response = await fetch(path);
  if (!response.ok) throw fetchError(path, response);
  return response.text();
}

function fetchError(path: string, response: Response): SightlineError {
  return new SightlineError(
    'MODEL_LOAD',
    `The built-in model file '${path}' could not be loaded (HTTP ${response.status}); start the app with \`sightline serve\`, or on a static host, serve the whole folder \`npm run build:site\` writes (it holds the model under models/default/).`,
  );
}

function errorReply(id: number, error: unknown): Reply {
  if (error instanceof SightlineError) return { type: 'error', id, code: error.code, message: error.message };
  return {
    type: 'error',
    id,
    code: 'INTERNAL',
    message: error instanceof Error ? error.message : String(error),
  };
}

// WebGPU where the browser offers an adapter; otherwise (and in headless test browsers) WebAssembly.
const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
if (gpu) {
  gpu
    .requestAdapter()
    .then((adapter) => {
      if (adapter && !backend) backend = 'webgpu';
    })
    .catch(() => undefined);
}
