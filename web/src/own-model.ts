// The user's own model: its files are read here and inspected in the worker; what the files do not say
// (input size, layout, pixel scaling) is asked in the form, then the model is opened with the answers.
import {
  IMAGENET_MEAN,
  IMAGENET_STD,
  type ModelHints,
  type ModelTask,
  parseLabels,
} from '../../src/browser.js';
import { detectHints, setUpDetectForm, showDetectFields } from './detect-form.js';
import { ui } from './dom.js';
import { engine } from './engine.js';
import { hideMessage, setModelLine, showMessage } from './messages.js';
import { useModel } from './model.js';
import { predictAndExplain } from './predictions.js';
import type { ModelQuestion } from './protocol.js';
import { modelOpening, questionAnswered, questionAsked, state } from './state.js';

/** The form's pixel scalings as mean/std; 'model' leaves them to the model's files. */
const NORMALIZATIONS: Record<string, { mean: readonly number[]; std: readonly number[] } | undefined> = {
  model: undefined,
  imagenet: { mean: IMAGENET_MEAN, std: IMAGENET_STD },
  unit: { mean: [0], std: [1] },
  symmetric: { mean: [0.5], std: [0.5] },
  raw: { mean: [0], std: [1 / 255] },
};

/** A dropped file and its path in a dropped folder ('my-model/onnx/model.onnx'), or its name. */
export interface DroppedFile {
  readonly file: File;
  readonly path: string;
}

/** A model folder's config files, the only ones read before its ONNX file is chosen. */
const FOLDER_CONFIGS = new Set(['config.json', 'preprocessor_config.json']);
const baseName = (path: string) => path.slice(path.lastIndexOf('/') + 1);
/** The dropped folder's ONNX files by path, read only once one is opened (there may be several large ones). */
let folderOnnx = new Map<string, File>();

/** Files from a file input; a folder picker gives each its path in the folder. */
export function pickedFiles(files: readonly File[]): DroppedFile[] {
  return files.map((file) => ({ file, path: file.webkitRelativePath || file.name }));
}

export async function inspectModel(dropped: readonly DroppedFile[]): Promise<void> {
  hideMessage();
  // A Hugging Face or timm folder (it has a config.json): its configs now; its weights, tokenizer and the like
  // never; the ONNX file once chosen.
  const folder = dropped.some((d) => baseName(d.path) === 'config.json');
  const sent = folder ? dropped.filter((d) => FOLDER_CONFIGS.has(baseName(d.path))) : dropped;
  folderOnnx = new Map(
    folder ? dropped.filter((d) => /\.onnx$/i.test(d.path)).map((d) => [d.path, d.file]) : [],
  );
  setModelLine(`Reading ${sent.map((d) => `'${d.path}'`).join(', ')}…`);
  try {
    // A TF.js model's files are named as its model.json names them (no folder); a model folder's keep their
    // paths, which tell onnx/model.onnx from a loose model.onnx.
    const read = await Promise.all(
      sent.map(async (d) => ({
        name: folder ? d.path : baseName(d.path),
        bytes: await d.file.arrayBuffer(),
      })),
    );
    const reply = await engine.call(
      { type: 'inspect-model', files: read, ...(folder ? { onnx: [...folderOnnx.keys()] } : {}) },
      'question',
      { onStatus: setModelLine },
      read.map((f) => f.bytes),
    ).done;
    questionAsked(reply.question);
    askAboutModel(reply.question);
  } catch (error) {
    setModelLine(state.model ? `Model: ${state.model.name}` : '');
    showMessage(error);
  }
}

function askAboutModel(q: ModelQuestion): void {
  const known = q.width !== undefined && q.height !== undefined;
  // A folder's config files say the size, layout and scaling; only its ONNX file may be left to choose.
  ui.layoutField.hidden = q.folder !== undefined;
  ui.normalizationField.hidden = q.folder !== undefined;
  ui.taskField.hidden = q.folder !== undefined;
  ui.task.value = '';
  showDetectFields(q.detector === true);
  ui.variantField.hidden = (q.variants?.length ?? 0) < 2;
  ui.variant.replaceChildren(...(q.variants ?? []).map((v) => new Option(v.label, v.source)));
  ui.sizeField.hidden = known;
  ui.inputWidth.required = !known;
  ui.inputHeight.required = !known;
  ui.inputWidth.value = String(q.width ?? 224);
  ui.inputHeight.value = String(q.height ?? 224);
  ui.layout.value = q.layout ?? 'NCHW';
  ui.layout.disabled = q.layout !== undefined;
  ui.normalizationFromModel.disabled = !q.normalizationFromModel;
  ui.normalization.value = q.normalizationFromModel ? 'model' : 'imagenet';
  // A Teachable Machine export names its size, pixel scaling and labels: there is nothing to ask.
  if (q.complete) {
    void openQuestionedModel();
    return;
  }
  ui.modelForm.hidden = false;
  const input = q.inputs[0];
  if (q.folder) {
    ui.modelQuestion.textContent = `'${q.fileName}' is a ${q.folder.kind} model (${q.folder.preprocessing}). It has several ONNX files: pick one.`;
    ui.variant.focus();
    setModelLine(`'${q.fileName}' is ready to use once you pick its ONNX file below.`);
    return;
  }
  ui.modelQuestion.textContent =
    `'${q.fileName}' takes '${input.name}' [${input.dims.join(', ')}]. ` +
    (known
      ? 'Say how it expects pixels to be scaled.'
      : 'Its input size is not fixed: give the size it was trained at, and how it expects pixels to be scaled.');
  ui.modelSubmit.focus();
  setModelLine(`'${q.fileName}' is ready to use once you answer below.`);
}

async function openQuestionedModel(): Promise<void> {
  const q = state.question;
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
  const hints: ModelHints = q.folder
    ? { ...(labels ? { labels } : {}) }
    : {
        width: Number(ui.inputWidth.value),
        height: Number(ui.inputHeight.value),
        layout: ui.layout.value as 'NCHW' | 'NHWC',
        ...NORMALIZATIONS[ui.normalization.value],
        ...(labels ? { labels } : {}),
        // An embedding reads like logits, so only the user can say it is one; '' leaves it to the graph.
        ...(ui.task.value ? { task: ui.task.value as ModelTask } : {}),
        ...detectHints(),
      };
  const several = (q.variants?.length ?? 0) > 1;
  const chosen = q.variants?.find((v) => v.source === ui.variant.value) ?? q.variants?.[0];
  const name = several && chosen ? `${q.fileName} (${chosen.label})` : q.fileName;
  let variant: { source: string; bytes: ArrayBuffer } | undefined;
  const file = chosen && folderOnnx.get(chosen.source);
  if (chosen && file) {
    setModelLine(`Reading '${chosen.source}'…`);
    variant = { source: chosen.source, bytes: await file.arrayBuffer() };
  }
  ui.modelForm.hidden = true;
  modelOpening(
    engine
      .call(
        { type: 'open-model', hints, name, variant },
        'model',
        { onStatus: setModelLine },
        variant ? [variant.bytes] : [],
      )
      .done.then((reply) => {
        questionAnswered();
        // The labels file belonged to this model; the next one brings its own.
        ui.labelsInput.value = '';
        useModel(reply.model);
      })
      .catch((error) => {
        ui.modelForm.hidden = false;
        setModelLine(`'${q.fileName}' could not be opened.`);
        showMessage(error);
      }),
  );
  await state.modelReady;
  if (state.model?.name === name) await predictAndExplain();
}

export function setUpOwnModel(): void {
  setUpDetectForm();
  for (const input of [ui.modelInput, ui.modelFolderInput]) {
    input.addEventListener('change', () => {
      const files = [...(input.files ?? [])];
      if (files.length > 0) void inspectModel(pickedFiles(files));
    });
  }
  ui.modelForm.addEventListener('submit', (event) => {
    event.preventDefault();
    void openQuestionedModel();
  });
}
