// What the model sees in the photo, in its task's words: classes and tags with their probabilities, a score as a
// number, a segmenter's classes with their share of the pixels (and its mask), an embedding's similarity to a
// reference photo. Each is a button that explains it.
import { decodeImageBlob, type ModelTask, type Prediction } from '../../src/browser.js';
import { setUpDetections } from './detections.js';
import { ui } from './dom.js';
import { engine } from './engine.js';
import { hideMessage, showMessage } from './messages.js';
import { explainCurrent, fillMethods } from './method-menu.js';
import { ensureModel } from './model.js';
import { drawMap, drawPhoto } from './overlay.js';
import { MAX_SIDE } from './photo-size.js';
import { classColour, drawMask, setUpSegments } from './segments.js';
import { predicted, referenceTaken, state, targetChosen } from './state.js';
import { setWork } from './work.js';

/** Asks the model for the photo's classes (once it is ready), then explains the top one. */
export async function predictAndExplain(): Promise<void> {
  const image = state.image;
  if (!image) return;
  await ensureModel();
  if (!state.model) return;
  const reference = state.model.task === 'embed' ? state.reference : undefined;
  try {
    setWork('Looking at the photo…');
    const reply = await engine.call({ type: 'predict', image, reference }, 'predictions').done;
    if (image !== state.image) return;
    predicted(reply.predictions, reply.forwardMs, reply);
    task = reply.task;
    showPredictions();
    // The forward pass is timed now: the menus can say how long each method takes.
    fillMethods();
    // An embedding is explained as its similarity to a reference: nothing to draw until there is one.
    if (task === 'embed' && !reference) {
      setWork();
      return;
    }
    await explainCurrent();
  } catch (error) {
    setWork();
    showMessage(error);
  }
}

/** The shown model's task: a score is a number in its own units, not a percentage (it may exceed 1). */
let task: ModelTask = 'classify';

const HEADINGS: Record<ModelTask, string> = {
  classify: 'What the model sees',
  multilabel: 'Its tags, each with its own probability',
  score: 'Its score',
  segment: 'Its classes, by share of the pixels',
  embed: 'How alike the two photos look to it',
  detect: 'What it finds, box by box',
};

function percent(p: number): string {
  return p >= 0.995 ? '>99%' : p < 0.005 ? '<1%' : `${Math.round(p * 100)}%`;
}

/** One prediction's words and, for probabilities and shares, its meter; a segment class gets its colour. */
function describe(p: Prediction): (string | HTMLElement)[] {
  // A detection's score is the detector's confidence, not a share of anything: a number, and where it is.
  if (task === 'detect')
    return [`${p.label} — ${p.score.toFixed(2)} at ${(p.box ?? []).map((v) => Math.round(v)).join(', ')}`];
  if (task === 'score' || task === 'embed') return [`${p.label} — ${p.score.toPrecision(4)}`];
  const meter = document.createElement('meter');
  meter.min = 0;
  meter.max = 1;
  meter.value = p.score;
  meter.setAttribute('aria-hidden', 'true');
  if (task !== 'segment') return [meter, `${p.label} — ${percent(p.score)}`];
  const swatch = document.createElement('span');
  swatch.className = 'swatch';
  swatch.style.background = `rgb(${classColour(p.index).join(' ')})`;
  swatch.setAttribute('aria-hidden', 'true');
  return [swatch, meter, `${p.label} — ${percent(p.score)} of pixels`];
}

export function showPredictions(): void {
  ui.predictionsBox.hidden = false;
  const hint = document.createElement('span');
  hint.className = 'muted';
  hint.textContent =
    task === 'embed'
      ? ''
      : task === 'detect'
        ? ' (click one, or its box on the photo, to explain it)'
        : ' (click one to explain it)';
  ui.predictionsTitle.replaceChildren(HEADINGS[task], hint);
  ui.referenceField.hidden = task !== 'embed';
  const none = task === 'detect' && state.predictions.length === 0;
  ui.predictionsNote.hidden = task !== 'embed' && !none;
  ui.predictionsNote.textContent =
    task === 'embed'
      ? `An embedding of ${state.dimensions} numbers: ${state.reference ? 'its cosine similarity to the reference photo is below.' : 'choose a reference photo to compare it with, and the map shows what in this photo makes the two alike.'}`
      : none
        ? 'The detector found nothing in this photo above its score threshold. To see weaker detections, drop the model again and lower “Keep detections scoring above”.'
        : '';
  drawMask();
  // A detector's boxes (and which is explained) are drawn over the photo or its map; with none, the photo alone.
  if (task === 'detect') {
    if (state.explained && !none) drawMap();
    else drawPhoto();
  }
  ui.predictions.replaceChildren(
    ...state.predictions.map((p) => {
      const item = document.createElement('li');
      const button = document.createElement('button');
      button.type = 'button';
      button.dataset.index = String(p.index);
      if (p.box) button.dataset.box = p.box.join(',');
      button.setAttribute('aria-pressed', String(p.index === state.target));
      button.append(...describe(p));
      button.addEventListener('click', () => explainTarget(p.index));
      item.append(button);
      return item;
    }),
  );
}

/** Explains another class (tag, segment class) and marks it as chosen. */
export function explainTarget(index: number): void {
  targetChosen(index);
  showPredictions();
  void explainCurrent();
}

/** The reference photo (embedding models) and clicks on a segmenter's mask. */
export function setUpPredictions(): void {
  setUpSegments(explainTarget);
  setUpDetections(explainTarget);
  ui.referenceInput.addEventListener('change', async () => {
    const file = ui.referenceInput.files?.[0];
    if (!file) return;
    hideMessage();
    try {
      referenceTaken(await decodeImageBlob(file, { maxSide: MAX_SIDE, name: file.name }));
    } catch (error) {
      showMessage(error);
      return;
    }
    await predictAndExplain();
  });
}
