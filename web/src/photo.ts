// The drop zone and file picker: a photo starts a new explanation; a model's files go to the own-model panel.
import { decodeImageBlob, type RgbImage } from '../../src/browser.js';
import { clearComparison } from './compare.js';
import { ui } from './dom.js';
import { droppedFiles } from './dropped.js';
import { hideMessage, showMessage } from './messages.js';
import { drawPhoto } from './overlay.js';
import { type DroppedFile, inspectModel, pickedFiles } from './own-model.js';
import { MAX_SIDE } from './photo-size.js';
import { predictAndExplain } from './predictions.js';
import { drawBoxes, showVerdict } from './region.js';
import { drawMask } from './segments.js';
import { photoTaken } from './state.js';

/** A model's files, dropped where photos go: ONNX, TFLite, a TF.js export's .zip or its files, a model folder's. */
const MODEL_FILE = /\.(onnx|tflite|lite|zip|json|bin)$/i;

async function takeFiles(files: readonly DroppedFile[]): Promise<void> {
  if (files.some((f) => MODEL_FILE.test(f.path))) return inspectModel(files);
  if (files[0]) return takePhoto(files[0].file);
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
  photoTaken(image, file.name);
  clearComparison();
  ui.mapSection.hidden = false;
  drawPhoto();
  // The last photo's mask no longer applies; the new one comes with its predictions.
  drawMask();
  drawBoxes();
  showVerdict();
  await predictAndExplain();
}

export function setUpPhoto(): void {
  ui.photoInput.addEventListener('change', () => {
    const files = [...(ui.photoInput.files ?? [])];
    ui.photoInput.value = '';
    void takeFiles(pickedFiles(files));
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
    // A dropped model folder (Hugging Face, timm, TF.js) is walked for its files.
    if (event.dataTransfer)
      void droppedFiles(event.dataTransfer)
        .then(takeFiles)
        .catch((error) => showMessage(error));
  });
}
