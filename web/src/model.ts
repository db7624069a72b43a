// The model the page uses: the built-in one when a photo or an audit first needs a model (or on request), and
// any model once it is opened. The built-in model (24 MB, a few seconds to convert and start) is loaded only
// then, so a visitor who brings their own model never waits for it.
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

/**
 * Waits for the model in use; with none opened or opening, starts the built-in one first. Settles (never
 * rejects) once it is ready or has failed; state.model says which.
 */
export function ensureModel(): Promise<unknown> {
  if (!state.model && !state.opening) loadDefaultModel();
  return state.modelReady;
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
  // SharedArrayBuffer, and with it onnxruntime-web's WebAssembly threads, exists only on a cross-origin
  // isolated page; a plain static host (the site `npm run build:site` writes) sends no COOP/COEP headers.
  if (!crossOriginIsolated) {
    ui.threadsNote.textContent =
      'This page is not cross-origin isolated (its web server sends no Cross-Origin-Opener-Policy and Cross-Origin-Embedder-Policy headers), so the model runs as single-threaded WebAssembly: maps take longer. `sightline serve`, or a host that sends those two headers, runs it on several threads.';
    ui.threadsNote.hidden = false;
  }
  ui.defaultModel.addEventListener('click', () => {
    loadDefaultModel();
    void state.modelReady.then(() => predictAndExplain());
  });
}
