// Two or three methods side by side on the same photo and class, and whether they agree.
import {
  type AttributionMap,
  agreementVerdict,
  compareMaps,
  defaultColormap,
  type NormalizeMode,
  type RgbImage,
  renderOverlay,
} from '../../src/browser.js';
import { putRgb } from './canvas.js';
import { ui } from './dom.js';
import { methodInfo, speedNote } from './estimates.js';
import type { MethodInfo } from './protocol.js';
import { state } from './state.js';
import { runExplain } from './work.js';

/** Two quick methods of different families: where they agree, the picture is more trustworthy. */
const COMPARE_DEFAULTS = ['grad-cam', 'gradient'];

/** One checkbox per method the model can run. */
export function fillCompareChoices(usable: readonly MethodInfo[]): void {
  ui.compareChoices.replaceChildren(
    ui.compareLegend,
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
}

/** A new photo: the last comparison was of another one. */
export function clearComparison(): void {
  ui.compareGrid.replaceChildren();
  ui.agreement.textContent = '';
}

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
  clearComparison();
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
    ui.compareGrid.append(figure(image, method.title, result.map));
  }
  const names = Object.keys(maps);
  const verdict = agreementVerdict(names, compareMaps(maps));
  ui.agreement.className = `verdict ${verdict.level === 'agree' ? 'inside' : 'outside'}`;
  ui.agreement.textContent = verdict.sentence;
}

/** One method's map over the photo, in its default display, captioned with the method's name. */
function figure(image: RgbImage, title: string, map: AttributionMap): HTMLElement {
  const figure = document.createElement('figure');
  const canvas = document.createElement('canvas');
  const mode: NormalizeMode = map.signed ? 'positive' : 'absolute';
  const rgba = renderOverlay(image, map.data, { mode, colormap: defaultColormap(mode), opacity: 0.55 });
  putRgb(canvas, rgba.width, rgba.height, rgba.data, 4);
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', `${title} map`);
  const caption = document.createElement('figcaption');
  caption.textContent = title;
  figure.append(canvas, caption);
  return figure;
}

export function setUpCompare(): void {
  ui.compare.addEventListener('click', () => void compareMethods());
}
