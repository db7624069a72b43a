// The method menu (cheapest first, with time estimates once the model has been timed) and drawing the chosen
// method's map for the chosen class.

import { fillCompareChoices } from './compare.js';
import { ui } from './dom.js';
import { cost, methodInfo, speedNote } from './estimates.js';
import { showNewMap } from './overlay.js';
import { updateVerdict } from './region.js';
import { mapExplained, state } from './state.js';
import { runExplain } from './work.js';

/** What a model's map is drawn with first: a detector's is D-RISE, as in the CLI. */
const preferredMethod = () => (state.model?.task === 'detect' ? 'd-rise' : 'grad-cam');

/** The menus from the model's methods; the user's choice stays where the new model offers it. */
export function fillMethods(): void {
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
    : ((usable.find((m) => m.id === preferredMethod()) ?? usable[0])?.id ?? '');
  fillCompareChoices(usable);
  describeMethod();
}

function describeMethod(): void {
  const m = methodInfo(ui.method.value);
  ui.methodNote.textContent = m
    ? `${m.description}${m.usesGradients ? ' The first map with gradients takes longer: the model is prepared once.' : ''}`
    : '';
}

/** Draws the chosen method's map for the chosen class, and opens the panels that work on a map. */
export async function explainCurrent(): Promise<void> {
  const image = state.image;
  const method = methodInfo(ui.method.value);
  if (!image || state.target === undefined || !method) return;
  const result = await runExplain(image, method, state.target, `Drawing the ${method.title} map…`);
  if (!result || image !== state.image) return;
  mapExplained(result);
  ui.regionSection.hidden = false;
  ui.compareSection.hidden = false;
  ui.exportSection.hidden = false;
  showNewMap(result.map.signed);
  updateVerdict();
}

export function setUpMethodMenu(): void {
  ui.method.addEventListener('change', () => {
    describeMethod();
    void explainCurrent();
  });
}
