// The model the page uses: the built-in one at start and on request, and any model once it is opened.
import { ui } from './dom.js';
import { engine } from './engine.js';
import { setModelLine, showMessage } from './messages.js';
import { fillMethods } from './method-menu.js';
import { predictAndExplain } from './predictions.js';
import type { ModelInfo } from './protocol.js';
import { modelOpened, modelOpening, state } from './state.js';

export function loadDefaultModel(): void {
  modelOpening(
    engine
      .call({ type: 'load-default' }, 'model', { onStatus: (m) => setModelLine(m) })
      .done.then((reply) => useModel(reply.model))
      .catch((error) => {
        setModelLine('The built-in model could not start.');
        showMessage(error);
      }),
  );
}

/** A model the worker opened: the header names it and the menus offer what it can do. */
export function useModel(model: ModelInfo): void {
  modelOpened(model);
  setModelLine(
    `Model: ${model.name} · ${outputs(model)} · ${model.inputSize.width}×${model.inputSize.height} input`,
  );
  ui.backend.textContent = `Runs in this browser with ONNX Runtime (${model.backend}).`;
  ui.defaultModel.hidden = model.name.includes('built in');
  fillMethods();
}

/** What the model gives, in its task's words. */
function outputs(model: ModelInfo): string {
  const n = model.classes;
  switch (model.task) {
    case 'multilabel':
      return `${n} tags`;
    case 'score':
      return n === 1 ? 'a score' : `${n} scores`;
    case 'segment':
      return `segments ${n} classes`;
    case 'embed':
      return `embeddings of ${n} numbers`;
    case 'detect':
      return n ? `detects ${n} classes` : 'detects objects';
    default:
      return `${n || 'unlabelled'} classes`;
  }
}

export function setUpModel(): void {
  ui.defaultModel.addEventListener('click', () => {
    loadDefaultModel();
    void state.modelReady.then(() => predictAndExplain());
  });
}
