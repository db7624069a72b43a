// The progress line under the method menu: one map from the worker at a time, with progress, a time estimate
// and Cancel.
import type { RgbImage } from '../../src/browser.js';
import { ui } from './dom.js';
import { Cancelled, engine } from './engine.js';
import { duration, estimateSeconds } from './estimates.js';
import { showMessage } from './messages.js';
import type { MethodInfo } from './protocol.js';
import { type Explained, runEnded, runStarted, state } from './state.js';

/** One map from the worker; undefined when cancelled or failed (the page says which). A new run cancels the last. */
export async function runExplain(
  image: RgbImage,
  method: MethodInfo,
  target: number,
  what: string,
): Promise<Explained | undefined> {
  if (state.running !== undefined) engine.cancel(state.running);
  const seconds = estimateSeconds(method);
  const started = performance.now();
  setWork(seconds !== undefined && seconds >= 3 ? `${what} (about ${duration(seconds)})` : what, 0);
  // An embedding model's target is the similarity to the reference photo; other models need none.
  const reference = state.model?.task === 'embed' ? state.reference : undefined;
  const call = engine.call({ type: 'explain', image, method: method.id, target, reference }, 'map', {
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
  runStarted(call.id);
  try {
    const reply = await call.done;
    return {
      map: reply.map,
      method: reply.method,
      target: reply.target,
      options: reply.options,
      note: reply.note,
    };
  } catch (error) {
    if (error instanceof Cancelled) {
      if (state.running === call.id) setWork();
      ui.methodNote.textContent = 'Cancelled. Pick a method or a class to try again.';
    } else showMessage(error);
    return undefined;
  } finally {
    if (state.running === call.id) {
      runEnded(call.id);
      setWork();
    }
  }
}

/** Shows what the worker is doing (hidden without text); a fraction fills the bar, none makes it indefinite. */
export function setWork(text?: string, fraction?: number): void {
  ui.work.hidden = text === undefined;
  ui.workText.textContent = text ?? '';
  ui.cancel.hidden = state.running === undefined;
  if (fraction === undefined) ui.progress.removeAttribute('value');
  else ui.progress.value = fraction;
}

export function setUpWork(): void {
  ui.cancel.addEventListener('click', () => {
    if (state.running !== undefined) engine.cancel(state.running);
  });
}
