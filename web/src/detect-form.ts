// The model form's detector settings (the CLI's --score-threshold, --iou-threshold, --detect-format and
// --box-format): shown when the dropped model's outputs look like a detector's or the user says it is one.
import { BOX_FORMATS, DETECT_FORMATS, type ModelHints } from '../../src/browser.js';
import { ui } from './dom.js';

/** Whether the model being asked about looks like a detector (its outputs, as the worker read them). */
let looksLikeDetector = false;

/** A new model's question: the settings at their defaults, shown for a detector (its outputs say so, or the task menu does). */
export function showDetectFields(detector: boolean): void {
  looksLikeDetector = detector;
  // Each dropped model starts from the library's defaults, not the last model's answers.
  ui.scoreThreshold.value = ui.scoreThreshold.defaultValue;
  ui.iouThreshold.value = ui.iouThreshold.defaultValue;
  ui.detectFormat.value = '';
  ui.boxFormat.value = '';
  update();
}

function update(): void {
  ui.detectField.hidden = !looksLikeDetector && ui.task.value !== 'detect';
}

/** The settings as hints; the format and box convention only where the user chose them. */
export function detectHints(): ModelHints {
  if (ui.detectField.hidden) return {};
  return {
    scoreThreshold: Number(ui.scoreThreshold.value),
    iouThreshold: Number(ui.iouThreshold.value),
    ...(ui.detectFormat.value ? { detectFormat: ui.detectFormat.value } : {}),
    ...(ui.boxFormat.value ? { boxFormat: ui.boxFormat.value } : {}),
  };
}

export function setUpDetectForm(): void {
  ui.detectFormat.append(...DETECT_FORMATS.map((f) => new Option(f, f)));
  ui.boxFormat.append(
    ...BOX_FORMATS.flatMap((f) => [
      new Option(`${f} in pixels`, f),
      new Option(`${f}, 0 to 1`, `${f}-normalized`),
    ]),
  );
  ui.task.addEventListener('change', update);
}
