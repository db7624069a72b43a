// The page: photo in, predictions, the heat map, the user's boxes and the verdict, comparison and downloads.
// The model runs in worker.ts; everything here is drawing and words.
import {
  type AttributionMap,
  agreementVerdict,
  type Box,
  COLORMAP_NAMES,
  type ColormapName,
  compareMaps,
  decodeImageBlob,
  defaultColormap,
  encodeNpy,
  IMAGENET_MEAN,
  IMAGENET_STD,
  legendBar,
  type MethodOptions,
  type ModelHints,
  type NormalizeMode,
  type Prediction,
  parseLabels,
  type RegionAttention,
  type RgbImage,
  regionAttention,
  regionVerdict,
  renderOverlay,
} from '../../src/browser.js';
import { Cancelled, Engine } from './engine.js';
import type { MethodInfo, ModelInfo, ModelQuestion } from './protocol.js';

/** Photos are scaled down to this longer side: the model sees 299 px anyway, and maps stay quick to draw. */
const MAX_SIDE = 1600;
/** A gradient pass costs about this many forward passes (measured on the default model in Node: 275 vs 90 ms). */
const GRADIENT_COST = 3;
const PREFERRED_METHOD = 'grad-cam';
/** Two quick methods of different families: where they agree, the picture is more trustworthy. */
const COMPARE_DEFAULTS = ['grad-cam', 'gradient'];

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const ui = {
  modelLine: $('model-line'),
  backend: $('backend'),
  drop: $('drop'),
  photoInput: $<HTMLInputElement>('photo-input'),
  message: $('message'),
  predictionsBox: $('predictions-box'),
  predictions: $<HTMLOListElement>('predictions'),
  mapSection: $('map-section'),
  method: $<HTMLSelectElement>('method'),
  methodNote: $('method-note'),
  colormap: $<HTMLSelectElement>('colormap'),
  mode: $<HTMLSelectElement>('mode'),
  opacity: $<HTMLInputElement>('opacity'),
  work: $('work'),
  progress: $<HTMLProgressElement>('progress'),
  workText: $('work-text'),
  cancel: $<HTMLButtonElement>('cancel'),
  overlay: $<HTMLCanvasElement>('overlay'),
  boxes: $<HTMLCanvasElement>('boxes'),
  legend: $<HTMLCanvasElement>('legend'),
  legendText: $('legend-text'),
  regionSection: $('region-section'),
  clearBoxes: $<HTMLButtonElement>('clear-boxes'),
  verdict: $('verdict'),
  verdictNumbers: $('verdict-numbers'),
  compareSection: $('compare-section'),
  compareChoices: $('compare-choices'),
  compare: $<HTMLButtonElement>('compare'),
  compareGrid: $('compare-grid'),
  agreement: $('agreement'),
  exportSection: $('export-section'),
  savePng: $<HTMLButtonElement>('save-png'),
  saveNpy: $<HTMLButtonElement>('save-npy'),
  saveJson: $<HTMLButtonElement>('save-json'),
  modelInput: $<HTMLInputElement>('model-input'),
  labelsInput: $<HTMLInputElement>('labels-input'),
  modelForm: $<HTMLFormElement>('model-form'),
  modelQuestion: $('model-question'),
  sizeField: $('size-field'),
  inputWidth: $<HTMLInputElement>('input-width'),
  inputHeight: $<HTMLInputElement>('input-height'),
  layout: $<HTMLSelectElement>('layout'),
  normalization: $<HTMLSelectElement>('normalization'),
  defaultModel: $<HTMLButtonElement>('default-model'),
};

interface Explained {
  readonly map: AttributionMap;
  readonly method: string;
  readonly target: { index: number; label: string };
  readonly options: MethodOptions;
}

const engine = new Engine();
const state: {
  model?: ModelInfo;
  modelReady: Promise<unknown>;
  forwardMs?: number;
  image?: RgbImage;
  imageName: string;
  predictions: readonly Prediction[];
  target?: number;
  explained?: Explained;
  running?: number;
  boxes: Box[];
  region?: { attention: RegionAttention; level: string; sentence: string };
  /** Whether the user picked the mode / colours, so a new map does not reset them. */
  chosenMode: boolean;
  chosenColormap: boolean;
} = {
  modelReady: Promise.resolve(),
  imageName: 'photo',
  predictions: [],
  boxes: [],
  chosenMode: false,
  chosenColormap: false,
};

// ---------------------------------------------------------------- model

function loadDefaultModel(): void {
  state.modelReady = engine
    .call({ type: 'load-default' }, 'model', { onStatus: (m) => setModelLine(m) })
    .done.then((reply) => useModel(reply.model))
    .catch((error) => {
      setModelLine('The built-in model could not start.');
      showMessage(error);
    });
}

function useModel(model: ModelInfo): void {
  state.model = model;
  state.forwardMs = undefined;
  setModelLine(
    `Model: ${model.name} · ${model.classes || 'unlabelled'} classes · ${model.inputSize.width}×${model.inputSize.height} input`,
  );
  ui.backend.textContent = `Runs in this browser with ONNX Runtime (${model.backend}).`;
  ui.defaultModel.hidden = model.name.includes('built in');
  fillMethods();
}

function setModelLine(text: string): void {
  ui.modelLine.textContent = text;
}

function fillMethods(): void {
  const model = state.model!;
  const methods = [...model.methods].sort((a, b) => cost(a) - cost(b));
  const previous = ui.method.value;
  ui.method.replaceChildren(
    ...methods.map((m) => {
      const option = new Option(`${m.title}${m.available ? speedNote(m) : ' — needs gradients'}`, m.id);
      option.disabled = !m.available;
      option.title = m.unavailableReason ?? m.description;
      return option;
    }),
  );
  const usable = methods.filter((m) => m.available);
  ui.method.value = usable.some((m) => m.id === previous)
    ? previous
    : ((usable.find((m) => m.id === PREFERRED_METHOD) ?? usable[0])?.id ?? '');
  ui.compareChoices.replaceChildren(
    ui.compareChoices.querySelector('legend')!,
    ...usable.map((m) => {
      const label = document.createElement('label');
      const box = document.createElement('input');
      box.type = 'checkbox';
      box.value = m.id;
      box.checked = COMPARE_DEFAULTS.includes(m.id);
      label.append(box, ` ${m.title}${speedNote(m)}`);
      return label;
    }),
  );
  describeMethod();
}

/** Relative cost of one map in forward passes. */
function cost(m: MethodInfo): number {
  return m.passes * (m.gradientPasses ? GRADIENT_COST : 1);
}

function estimateSeconds(m: MethodInfo): number | undefined {
  return state.forwardMs === undefined ? undefined : (cost(m) * state.forwardMs) / 1000;
}

function speedNote(m: MethodInfo): string {
  const seconds = estimateSeconds(m);
  if (seconds === undefined) return cost(m) <= 10 ? ' — fast' : cost(m) <= 200 ? '' : ' — slow';
  return seconds < 3 ? ' — fast' : ` — about ${duration(seconds)}`;
}

function duration(seconds: number): string {
  if (seconds < 90) return `${Math.max(1, Math.round(seconds))} s`;
  return `${Math.round(seconds / 60)} min`;
}

function methodInfo(id: string): MethodInfo | undefined {
  return state.model?.methods.find((m) => m.id === id);
}

function describeMethod(): void {
  const m = methodInfo(ui.method.value);
  ui.methodNote.textContent = m
    ? `${m.description}${m.usesGradients ? ' The first map with gradients takes longer: the model is prepared once.' : ''}`
    : '';
}

// ---------------------------------------------------------------- photo and predictions

/** A model's files, dropped where photos go: ONNX, TFLite, a TF.js export's .zip or its files. */
const MODEL_FILE = /\.(onnx|tflite|lite|zip|json|bin)$/i;

async function takeFiles(files: readonly File[]): Promise<void> {
  if (files.some((f) => MODEL_FILE.test(f.name))) return inspectModel(files);
  if (files[0]) return takePhoto(files[0]);
}

async function takePhoto(file: File): Promise<void> {
  hideMessage();
  let image: RgbImage;
  try {
    image = await decodeImageBlob(file, { maxSide: MAX_SIDE, name: file.name });
  } catch (error) {
    showMessage(error);
    return;
  }
  state.image = image;
  state.imageName = file.name.replace(/\.[^.]+$/, '') || 'photo';
  state.explained = undefined;
  state.boxes = [];
  state.region = undefined;
  ui.compareGrid.replaceChildren();
  ui.agreement.textContent = '';
  ui.mapSection.hidden = false;
  drawPhoto();
  drawBoxes();
  showVerdict();
  await predictAndExplain();
}

async function predictAndExplain(): Promise<void> {
  const image = state.image;
  if (!image) return;
  await state.modelReady;
  if (!state.model) return;
  try {
    setWork('Looking at the photo…');
    const reply = await engine.call({ type: 'predict', image }, 'predictions').done;
    if (image !== state.image) return;
    state.forwardMs = reply.forwardMs;
    state.predictions = reply.predictions;
    state.target = reply.predictions[0]?.index;
    showPredictions();
    fillMethods();
    await explainCurrent();
  } catch (error) {
    setWork();
    showMessage(error);
  }
}

function showPredictions(): void {
  ui.predictionsBox.hidden = false;
  ui.predictions.replaceChildren(
    ...state.predictions.map((p) => {
      const item = document.createElement('li');
      const button = document.createElement('button');
      button.type = 'button';
      button.dataset.index = String(p.index);
      button.setAttribute('aria-pressed', String(p.index === state.target));
      const meter = document.createElement('meter');
      meter.min = 0;
      meter.max = 1;
      meter.value = p.score;
      meter.setAttribute('aria-hidden', 'true');
      const percent = p.score >= 0.995 ? '>99%' : p.score < 0.005 ? '<1%' : `${Math.round(p.score * 100)}%`;
      button.append(meter, `${p.label} — ${percent}`);
      button.addEventListener('click', () => {
        state.target = p.index;
        showPredictions();
        void explainCurrent();
      });
      item.append(button);
      return item;
    }),
  );
}

// ---------------------------------------------------------------- explaining

async function explainCurrent(): Promise<void> {
  const image = state.image;
  const method = methodInfo(ui.method.value);
  if (!image || state.target === undefined || !method) return;
  const result = await runExplain(image, method, state.target, `Drawing the ${method.title} map…`);
  if (!result || image !== state.image) return;
  state.explained = result;
  ui.regionSection.hidden = false;
  ui.compareSection.hidden = false;
  ui.exportSection.hidden = false;
  // Sign means something only for signed maps; the CLI's default (positive) applies unless the user chose.
  for (const option of ui.mode.options) option.disabled = !result.map.signed && option.value !== 'absolute';
  if (!state.chosenMode || !result.map.signed) ui.mode.value = result.map.signed ? 'positive' : 'absolute';
  drawMap();
  updateVerdict();
}

/** One map from the worker, with progress and cancel; undefined when cancelled or failed (the page says which). */
async function runExplain(
  image: RgbImage,
  method: MethodInfo,
  target: number,
  what: string,
): Promise<Explained | undefined> {
  if (state.running !== undefined) engine.cancel(state.running);
  const seconds = estimateSeconds(method);
  const started = performance.now();
  setWork(seconds !== undefined && seconds >= 3 ? `${what} (about ${duration(seconds)})` : what, 0);
  const call = engine.call({ type: 'explain', image, method: method.id, target }, 'map', {
    onStatus: (message) => setWork(message),
    onProgress: (done, total) => {
      const elapsed = (performance.now() - started) / 1000;
      const left = done > 0 ? (elapsed * (total - done)) / done : undefined;
      setWork(
        `${what} ${Math.floor((100 * done) / total)}%${left !== undefined && left > 2 ? `, about ${duration(left)} left` : ''}`,
        done / total,
      );
    },
  });
  state.running = call.id;
  try {
    const reply = await call.done;
    return { map: reply.map, method: reply.method, target: reply.target, options: reply.options };
  } catch (error) {
    if (error instanceof Cancelled) {
      if (state.running === call.id) setWork();
      ui.methodNote.textContent = 'Cancelled. Pick a method or a class to try again.';
    } else showMessage(error);
    return undefined;
  } finally {
    if (state.running === call.id) {
      state.running = undefined;
      setWork();
    }
  }
}

function setWork(text?: string, fraction?: number): void {
  ui.work.hidden = text === undefined;
  ui.workText.textContent = text ?? '';
  ui.cancel.hidden = state.running === undefined;
  if (fraction === undefined) ui.progress.removeAttribute('value');
  else ui.progress.value = fraction;
}

// ---------------------------------------------------------------- drawing

function overlayOptions(): { mode: NormalizeMode; colormap: ColormapName; opacity: number } {
  const mode = ui.mode.value as NormalizeMode;
  const colormap = state.chosenColormap ? (ui.colormap.value as ColormapName) : defaultColormap(mode);
  ui.colormap.value = colormap;
  return { mode, colormap, opacity: Number(ui.opacity.value) };
}

function drawPhoto(): void {
  const image = state.image!;
  putRgb(ui.overlay, image.width, image.height, image.data, 3);
  ui.legend.hidden = true;
  ui.legendText.textContent = '';
}

function drawMap(): void {
  const image = state.image;
  const explained = state.explained;
  if (!image || !explained) return;
  const options = overlayOptions();
  const rgba = renderOverlay(image, explained.map.data, options);
  putRgb(ui.overlay, rgba.width, rgba.height, rgba.data, 4);
  void drawLegend(ui.legend, image.width, explained, options);
  const title = methodInfo(explained.method)?.title ?? explained.method;
  ui.legendText.textContent = `${title} map for “${explained.target.label}”. ${legendWords(options.mode)}`;
}

function legendWords(mode: NormalizeMode): string {
  return mode === 'signed'
    ? 'Warm colours spoke for the class, cool colours against it; uncoloured parts hardly mattered.'
    : 'Warm colours mark what mattered most; uncoloured parts hardly mattered.';
}

async function drawLegend(
  canvas: HTMLCanvasElement,
  width: number,
  explained: Explained,
  options: { mode: NormalizeMode; colormap: ColormapName },
): Promise<void> {
  const title = methodInfo(explained.method)?.title ?? explained.method;
  const legend = legendBar(width, { ...options, method: title, target: explained.target.label });
  putRgb(canvas, legend.bar.width, legend.bar.height, legend.bar.data, 4);
  canvas.hidden = false;
  const url = URL.createObjectURL(new Blob([legend.svg], { type: 'image/svg+xml' }));
  try {
    const text = new Image();
    text.src = url;
    await text.decode();
    canvas.getContext('2d')!.drawImage(text, 0, 0);
  } finally {
    URL.revokeObjectURL(url);
  }
}

function putRgb(
  canvas: HTMLCanvasElement,
  width: number,
  height: number,
  data: Uint8Array | Uint8ClampedArray,
  channels: 3 | 4,
): void {
  canvas.width = width;
  canvas.height = height;
  const pixels = new ImageData(width, height);
  if (channels === 4) pixels.data.set(data);
  else {
    for (let p = 0, q = 0; q < data.length; p += 4, q += 3) {
      pixels.data[p] = data[q];
      pixels.data[p + 1] = data[q + 1];
      pixels.data[p + 2] = data[q + 2];
      pixels.data[p + 3] = 255;
    }
  }
  canvas.getContext('2d')!.putImageData(pixels, 0, 0);
}

// ---------------------------------------------------------------- boxes and the verdict

let dragStart: { x: number; y: number } | undefined;
let dragBox: Box | undefined;

function toImage(event: PointerEvent): { x: number; y: number } {
  const rect = ui.boxes.getBoundingClientRect();
  const image = state.image!;
  const x = ((event.clientX - rect.left) / rect.width) * image.width;
  const y = ((event.clientY - rect.top) / rect.height) * image.height;
  return { x: Math.min(image.width, Math.max(0, x)), y: Math.min(image.height, Math.max(0, y)) };
}

function spanBox(a: { x: number; y: number }, b: { x: number; y: number }): Box {
  return {
    x: Math.min(a.x, b.x),
    y: Math.min(a.y, b.y),
    width: Math.abs(a.x - b.x),
    height: Math.abs(a.y - b.y),
  };
}

ui.boxes.addEventListener('pointerdown', (event) => {
  if (!state.image) return;
  ui.boxes.setPointerCapture(event.pointerId);
  dragStart = toImage(event);
  dragBox = undefined;
});
ui.boxes.addEventListener('pointermove', (event) => {
  if (!dragStart) return;
  dragBox = spanBox(dragStart, toImage(event));
  drawBoxes();
});
ui.boxes.addEventListener('pointerup', (event) => {
  if (!dragStart) return;
  const box = spanBox(dragStart, toImage(event));
  dragStart = undefined;
  dragBox = undefined;
  const image = state.image!;
  // A click, or a sliver under 1% of the photo's side, is not a box anyone meant to draw.
  const least = Math.max(2, 0.01 * Math.min(image.width, image.height));
  if (box.width >= least && box.height >= least) state.boxes.push(box);
  drawBoxes();
  updateVerdict();
});

// The keyboard way to mark an area: Enter places a box in the middle, arrows move it, Shift+arrows resize it,
// Enter keeps it, Escape drops it.
let keyBox: Box | undefined;
ui.boxes.addEventListener('keydown', (event) => {
  const image = state.image;
  if (!image) return;
  const step = Math.max(1, Math.round(Math.min(image.width, image.height) / 40));
  const confirm = event.key === 'Enter' || event.key === ' ';
  if (!keyBox) {
    if (!confirm) return;
    keyBox = {
      x: (image.width * 3) / 8,
      y: (image.height * 3) / 8,
      width: image.width / 4,
      height: image.height / 4,
    };
  } else if (confirm) {
    state.boxes.push(keyBox);
    keyBox = undefined;
    updateVerdict();
  } else if (event.key === 'Escape') keyBox = undefined;
  else {
    const moves: Record<string, [number, number]> = {
      ArrowLeft: [-step, 0],
      ArrowRight: [step, 0],
      ArrowUp: [0, -step],
      ArrowDown: [0, step],
    };
    const move = moves[event.key];
    if (!move) return;
    const b = keyBox;
    keyBox = event.shiftKey
      ? {
          ...b,
          width: clamp(b.width + move[0], step, image.width - b.x),
          height: clamp(b.height + move[1], step, image.height - b.y),
        }
      : {
          ...b,
          x: clamp(b.x + move[0], 0, image.width - b.width),
          y: clamp(b.y + move[1], 0, image.height - b.height),
        };
  }
  event.preventDefault();
  dragBox = keyBox;
  drawBoxes();
});

function clamp(v: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, v));
}

function drawBoxes(): void {
  const image = state.image;
  if (!image) return;
  ui.boxes.width = image.width;
  ui.boxes.height = image.height;
  const context = ui.boxes.getContext('2d')!;
  context.clearRect(0, 0, image.width, image.height);
  const line = Math.max(2, Math.round(Math.min(image.width, image.height) / 200));
  for (const box of dragBox ? [...state.boxes, dragBox] : state.boxes) {
    // A dark and a light stroke, so the box shows on any photo and any colour of the map.
    context.lineWidth = line * 2;
    context.strokeStyle = 'rgba(0, 0, 0, 0.8)';
    context.strokeRect(box.x, box.y, box.width, box.height);
    context.lineWidth = line;
    context.strokeStyle = '#ffffff';
    context.strokeRect(box.x, box.y, box.width, box.height);
  }
}

function updateVerdict(): void {
  const map = state.explained?.map;
  state.region = undefined;
  if (map && state.boxes.length > 0) {
    try {
      // Attention is the evidence for the class unless the user asked to see magnitudes.
      const attention = regionAttention(map, state.boxes, {
        mode: map.signed && ui.mode.value !== 'absolute' ? 'positive' : 'absolute',
      });
      state.region = { attention, ...regionVerdict(attention) };
    } catch (error) {
      showMessage(error);
    }
  }
  showVerdict();
}

function showVerdict(): void {
  const region = state.region;
  ui.verdict.className = `verdict ${region?.level ?? ''}`;
  if (!region) {
    ui.verdict.textContent = state.boxes.length > 0 ? '' : 'No area marked yet.';
    ui.verdictNumbers.textContent = '';
    return;
  }
  const a = region.attention;
  ui.verdict.textContent = region.sentence;
  ui.verdictNumbers.textContent =
    `Inside the marked area: ${percent(a.share)} of the attention, on ${percent(a.areaShare)} of the photo ` +
    `(${a.concentration.toFixed(1)}× what its size would get by chance). Strongest point: ${a.peakInside ? 'inside' : 'outside'}.`;
}

function percent(x: number): string {
  return `${Math.round(x * 100)}%`;
}

// ---------------------------------------------------------------- compare

async function compareMethods(): Promise<void> {
  const image = state.image;
  const target = state.target;
  if (!image || target === undefined) return;
  const chosen = [...ui.compareChoices.querySelectorAll<HTMLInputElement>('input:checked')]
    .map((box) => methodInfo(box.value))
    .filter((m): m is MethodInfo => m !== undefined);
  if (chosen.length < 2 || chosen.length > 3) {
    ui.agreement.className = 'verdict';
    ui.agreement.textContent = 'Pick two or three methods to compare.';
    return;
  }
  ui.agreement.textContent = '';
  ui.compareGrid.replaceChildren();
  const maps: Record<string, AttributionMap> = {};
  for (const [i, method] of chosen.entries()) {
    const result = await runExplain(
      image,
      method,
      target,
      `Comparing: ${method.title} (${i + 1} of ${chosen.length})…`,
    );
    if (!result || image !== state.image) return;
    maps[method.title] = result.map;
    const figure = document.createElement('figure');
    const canvas = document.createElement('canvas');
    const mode: NormalizeMode = result.map.signed ? 'positive' : 'absolute';
    const rgba = renderOverlay(image, result.map.data, {
      mode,
      colormap: defaultColormap(mode),
      opacity: 0.55,
    });
    putRgb(canvas, rgba.width, rgba.height, rgba.data, 4);
    canvas.setAttribute('role', 'img');
    canvas.setAttribute('aria-label', `${method.title} map`);
    const caption = document.createElement('figcaption');
    caption.textContent = method.title;
    figure.append(canvas, caption);
    ui.compareGrid.append(figure);
  }
  const names = Object.keys(maps);
  const verdict = agreementVerdict(names, compareMaps(maps));
  ui.agreement.className = `verdict ${verdict.level === 'agree' ? 'inside' : 'outside'}`;
  ui.agreement.textContent = verdict.sentence;
}

// ---------------------------------------------------------------- your own model

let question: ModelQuestion | undefined;

async function inspectModel(files: readonly File[]): Promise<void> {
  hideMessage();
  setModelLine(`Reading ${files.map((f) => `'${f.name}'`).join(', ')}…`);
  try {
    const read = await Promise.all(files.map(async (f) => ({ name: f.name, bytes: await f.arrayBuffer() })));
    const reply = await engine.call(
      { type: 'inspect-model', files: read },
      'question',
      { onStatus: setModelLine },
      read.map((f) => f.bytes),
    ).done;
    question = reply.question;
    askAboutModel(reply.question);
  } catch (error) {
    setModelLine(state.model ? `Model: ${state.model.name}` : '');
    showMessage(error);
  }
}

function askAboutModel(q: ModelQuestion): void {
  const known = q.width !== undefined && q.height !== undefined;
  ui.sizeField.hidden = known;
  ui.inputWidth.required = !known;
  ui.inputHeight.required = !known;
  ui.inputWidth.value = String(q.width ?? 224);
  ui.inputHeight.value = String(q.height ?? 224);
  ui.layout.value = q.layout ?? 'NCHW';
  ui.layout.disabled = q.layout !== undefined;
  const fromModel = ui.normalization.querySelector<HTMLOptionElement>('option[value="model"]')!;
  fromModel.disabled = !q.normalizationFromModel;
  ui.normalization.value = q.normalizationFromModel ? 'model' : 'imagenet';
  // A Teachable Machine export names its size, pixel scaling and labels: there is nothing to ask.
  if (q.complete) {
    void openQuestionedModel();
    return;
  }
  ui.modelForm.hidden = false;
  const input = q.inputs[0];
  ui.modelQuestion.textContent =
    `'${q.fileName}' takes '${input.name}' [${input.dims.join(', ')}]. ` +
    (known
      ? 'Say how it expects pixels to be scaled.'
      : 'Its input size is not fixed: give the size it was trained at, and how it expects pixels to be scaled.');
  ui.modelForm.querySelector<HTMLButtonElement>('button[type="submit"]')!.focus();
  setModelLine(`'${q.fileName}' is ready to use once you answer below.`);
}

const NORMALIZATIONS: Record<string, { mean: readonly number[]; std: readonly number[] } | undefined> = {
  model: undefined,
  imagenet: { mean: IMAGENET_MEAN, std: IMAGENET_STD },
  unit: { mean: [0], std: [1] },
  symmetric: { mean: [0.5], std: [0.5] },
  raw: { mean: [0], std: [1 / 255] },
};

async function openQuestionedModel(): Promise<void> {
  const q = question;
  if (!q) return;
  hideMessage();
  let labels: string[] | undefined;
  const labelsFile = ui.labelsInput.files?.[0];
  try {
    if (labelsFile) labels = parseLabels(await labelsFile.text(), labelsFile.name);
  } catch (error) {
    showMessage(error);
    return;
  }
  const hints: ModelHints = {
    width: Number(ui.inputWidth.value),
    height: Number(ui.inputHeight.value),
    layout: ui.layout.value as 'NCHW' | 'NHWC',
    ...NORMALIZATIONS[ui.normalization.value],
    ...(labels ? { labels } : {}),
  };
  ui.modelForm.hidden = true;
  state.modelReady = engine
    .call({ type: 'open-model', hints, name: q.fileName }, 'model', { onStatus: setModelLine })
    .done.then((reply) => {
      question = undefined;
      // The labels file belonged to this model; the next one brings its own.
      ui.labelsInput.value = '';
      useModel(reply.model);
    })
    .catch((error) => {
      ui.modelForm.hidden = false;
      setModelLine(`'${q.fileName}' could not be opened.`);
      showMessage(error);
    });
  await state.modelReady;
  if (state.model?.name === q.fileName) await predictAndExplain();
}

// ---------------------------------------------------------------- downloads

function download(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function baseName(): string {
  return `${state.imageName}-${state.explained?.method ?? 'map'}`;
}

async function savePng(): Promise<void> {
  const image = state.image;
  const explained = state.explained;
  if (!image || !explained) return;
  const legend = document.createElement('canvas');
  await drawLegend(legend, image.width, explained, overlayOptions());
  const out = document.createElement('canvas');
  out.width = image.width;
  out.height = image.height + legend.height;
  const context = out.getContext('2d')!;
  context.drawImage(ui.overlay, 0, 0);
  context.drawImage(legend, 0, image.height);
  const blob = await new Promise<Blob | null>((resolve) => out.toBlob(resolve, 'image/png'));
  if (blob) download(blob, `${baseName()}.png`);
}

function saveNpy(): void {
  const map = state.explained?.map;
  if (!map) return;
  const bytes = encodeNpy(map.data, [map.height, map.width]);
  download(
    new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }),
    `${baseName()}.npy`,
  );
}

function saveJson(): void {
  const explained = state.explained;
  const image = state.image;
  if (!explained || !image) return;
  const display = overlayOptions();
  const region = state.region;
  const details = {
    image: { name: state.imageName, width: image.width, height: image.height },
    model: state.model?.name,
    predictions: state.predictions,
    target: explained.target,
    method: explained.method,
    options: explained.options,
    map: {
      width: explained.map.width,
      height: explained.map.height,
      signed: explained.map.signed,
      details: explained.map.details,
    },
    display,
    region: region
      ? {
          boxes: state.boxes.map((b) => ({
            x: Math.round(b.x),
            y: Math.round(b.y),
            width: Math.round(b.width),
            height: Math.round(b.height),
          })),
          share: region.attention.share,
          areaShare: region.attention.areaShare,
          concentration: region.attention.concentration,
          peakInside: region.attention.peakInside,
          level: region.level,
          verdict: region.sentence,
        }
      : null,
  };
  download(
    new Blob([`${JSON.stringify(details, null, 2)}\n`], { type: 'application/json' }),
    `${baseName()}.json`,
  );
}

// ---------------------------------------------------------------- messages

function showMessage(error: unknown): void {
  ui.message.hidden = false;
  ui.message.textContent = error instanceof Error ? error.message : String(error);
}

function hideMessage(): void {
  ui.message.hidden = true;
  ui.message.textContent = '';
}

// ---------------------------------------------------------------- wiring

ui.colormap.replaceChildren(...COLORMAP_NAMES.map((name) => new Option(name, name)));
ui.photoInput.addEventListener('change', () => {
  const files = [...(ui.photoInput.files ?? [])];
  ui.photoInput.value = '';
  void takeFiles(files);
});
// The label already opens the picker on click; Enter and Space on it should too.
ui.drop.tabIndex = 0;
ui.drop.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' || event.key === ' ') {
    event.preventDefault();
    ui.photoInput.click();
  }
});
for (const type of ['dragenter', 'dragover'] as const) {
  ui.drop.addEventListener(type, (event) => {
    event.preventDefault();
    ui.drop.classList.add('over');
  });
}
ui.drop.addEventListener('dragleave', () => ui.drop.classList.remove('over'));
ui.drop.addEventListener('drop', (event) => {
  event.preventDefault();
  ui.drop.classList.remove('over');
  void takeFiles([...(event.dataTransfer?.files ?? [])]);
});
ui.method.addEventListener('change', () => {
  describeMethod();
  void explainCurrent();
});
ui.mode.addEventListener('change', () => {
  state.chosenMode = true;
  drawMap();
  updateVerdict();
});
ui.colormap.addEventListener('change', () => {
  state.chosenColormap = true;
  drawMap();
});
ui.opacity.addEventListener('input', () => drawMap());
ui.cancel.addEventListener('click', () => {
  if (state.running !== undefined) engine.cancel(state.running);
});
ui.clearBoxes.addEventListener('click', () => {
  state.boxes = [];
  drawBoxes();
  updateVerdict();
});
ui.compare.addEventListener('click', () => void compareMethods());
ui.savePng.addEventListener('click', () => void savePng());
ui.saveNpy.addEventListener('click', saveNpy);
ui.saveJson.addEventListener('click', saveJson);
ui.modelInput.addEventListener('change', () => {
  const files = [...(ui.modelInput.files ?? [])];
  if (files.length > 0) void inspectModel(files);
});
ui.modelForm.addEventListener('submit', (event) => {
  event.preventDefault();
  void openQuestionedModel();
});
ui.defaultModel.addEventListener('click', () => {
  loadDefaultModel();
  void state.modelReady.then(() => predictAndExplain());
});

loadDefaultModel();
