// What the model sees in the photo: its top classes, each a button that explains that class.
import type { ModelTask } from '../../src/browser.js';
import { ui } from './dom.js';
import { engine } from './engine.js';
import { showMessage } from './messages.js';
import { explainCurrent, fillMethods } from './method-menu.js';
import { predicted, state, targetChosen } from './state.js';
import { setWork } from './work.js';

/** Asks the model for the photo's classes (once it is ready), then explains the top one. */
export async function predictAndExplain(): Promise<void> {
  const image = state.image;
  if (!image) return;
  await state.modelReady;
  if (!state.model) return;
  try {
    setWork('Looking at the photo…');
    const reply = await engine.call({ type: 'predict', image }, 'predictions').done;
    if (image !== state.image) return;
    predicted(reply.predictions, reply.forwardMs);
    task = reply.task;
    showPredictions();
    // The forward pass is timed now: the menus can say how long each method takes.
    fillMethods();
    await explainCurrent();
  } catch (error) {
    setWork();
    showMessage(error);
  }
}

/** The shown model's task: a score is a number in its own units, not a percentage (it may exceed 1). */
let task: ModelTask = 'classify';

function showPredictions(): void {
  ui.predictionsBox.hidden = false;
  ui.predictions.replaceChildren(
    ...state.predictions.map((p) => {
      const item = document.createElement('li');
      const button = document.createElement('button');
      button.type = 'button';
      button.dataset.index = String(p.index);
      button.setAttribute('aria-pressed', String(p.index === state.target));
      if (task === 'score') {
        button.append(`${p.label} — ${p.score.toPrecision(4)}`);
      } else {
        const meter = document.createElement('meter');
        meter.min = 0;
        meter.max = 1;
        meter.value = p.score;
        meter.setAttribute('aria-hidden', 'true');
        const percent = p.score >= 0.995 ? '>99%' : p.score < 0.005 ? '<1%' : `${Math.round(p.score * 100)}%`;
        button.append(meter, `${p.label} — ${percent}`);
      }
      button.addEventListener('click', () => {
        targetChosen(p.index);
        showPredictions();
        void explainCurrent();
      });
      item.append(button);
      return item;
    }),
  );
}
