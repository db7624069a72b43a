// The photo with the heat map over it, its legend, and the controls that change how the map is shown
// (colours, what to show, opacity).
import {
  COLORMAP_NAMES,
  type ColormapName,
  defaultColormap,
  flatMapWords,
  legendBar,
  type NormalizeMode,
  renderOverlay,
} from '../../src/browser.js';
import { putRgb } from './canvas.js';
import { drawDetections } from './detections.js';
import { ui } from './dom.js';
import { methodInfo } from './estimates.js';
import { updateVerdict } from './region.js';
import { colormapChosen, type Explained, modeChosen, state } from './state.js';

export interface OverlayOptions {
  readonly mode: NormalizeMode;
  readonly colormap: ColormapName;
  readonly opacity: number;
}

/** The display the controls ask for; the colours follow the mode until the user picks some. */
export function overlayOptions(): OverlayOptions {
  const mode = ui.mode.value as NormalizeMode;
  const colormap = state.chosenColormap ? (ui.colormap.value as ColormapName) : defaultColormap(mode);
  ui.colormap.value = colormap;
  return { mode, colormap, opacity: Number(ui.opacity.value) };
}

/** A new map: offers the modes that mean something for it and keeps the user's choice where it still does. */
export function showNewMap(signed: boolean): void {
  // Sign means something only for signed maps; the CLI's default (positive) applies unless the user chose.
  for (const option of ui.mode.options) option.disabled = !signed && option.value !== 'absolute';
  if (!state.chosenMode || !signed) ui.mode.value = signed ? 'positive' : 'absolute';
  drawMap();
}

export function drawPhoto(): void {
  const image = state.image!;
  putRgb(ui.overlay, image.width, image.height, image.data, 3);
  drawDetections();
  ui.legend.hidden = true;
  ui.legendText.textContent = '';
  ui.mapNote.hidden = true;
}

export function drawMap(): void {
  const image = state.image;
  const explained = state.explained;
  if (!image || !explained) return;
  const options = overlayOptions();
  const rgba = renderOverlay(image, explained.map.data, options);
  putRgb(ui.overlay, rgba.width, rgba.height, rgba.data, 4);
  drawDetections();
  void drawLegend(ui.legend, image.width, explained, options);
  const title = methodInfo(explained.method)?.title ?? explained.method;
  ui.legendText.textContent = `${title} map for “${explained.target.label}”. ${legendWords(options.mode)}`;
  // Said with the mode shown: a map flat in one mode (nothing above zero) may not be in another.
  const flat = flatMapWords(explained.map.data, options, explained.target.label);
  const notes = [flat, explained.note].filter((n): n is string => n !== undefined);
  ui.mapNote.hidden = notes.length === 0;
  ui.mapNote.textContent = notes.map((n) => `Note: ${n}`).join(' ');
}

function legendWords(mode: NormalizeMode): string {
  return mode === 'signed'
    ? 'Warm colours spoke for the class, cool colours against it; uncoloured parts hardly mattered.'
    : 'Warm colours mark what mattered most; uncoloured parts hardly mattered.';
}

/** The colour bar with its words (drawn from SVG), as wide as the photo. */
export async function drawLegend(
  canvas: HTMLCanvasElement,
  width: number,
  explained: Explained,
  options: { mode: NormalizeMode; colormap: ColormapName },
): Promise<void> {
  const title = methodInfo(explained.method)?.title ?? explained.method;
  const legend = legendBar(width, { ...options, method: title, target: explained.target.label });
  putRgb(canvas, legend.bar.width, legend.bar.height, legend.bar.data, 4);
  canvas.hidden = false;
  const url = URL.createObjectURL(new Blob([legend.svg], { type: 'image/svg+xml' }));
  try {
    const text = new Image();
    text.src = url;
    await text.decode();
    canvas.getContext('2d')!.drawImage(text, 0, 0);
  } finally {
    URL.revokeObjectURL(url);
  }
}

export function setUpOverlay(): void {
  ui.colormap.replaceChildren(...COLORMAP_NAMES.map((name) => new Option(name, name)));
  ui.mode.addEventListener('change', () => {
    modeChosen();
    drawMap();
    // The verdict measures evidence for the class, or magnitudes when the user shows those.
    updateVerdict();
  });
  ui.colormap.addEventListener('change', () => {
    colormapChosen();
    drawMap();
  });
  ui.opacity.addEventListener('input', () => drawMap());
}
