// A segmenter's mask over the photo: each output pixel's class in its colour, mapped back through the crop the
// model saw. Clicking a pixel picks its class to explain (over its own region, the library's default).
import { putRgb } from './canvas.js';
import { ui } from './dom.js';
import { state } from './state.js';

/** Distinct colours (Tableau 10 and its light tones), reused in turn past twenty classes. */
const PALETTE: readonly (readonly [number, number, number])[] = [
  [31, 119, 180],
  [255, 127, 14],
  [44, 160, 44],
  [214, 39, 40],
  [148, 103, 189],
  [140, 86, 75],
  [227, 119, 194],
  [127, 127, 127],
  [188, 189, 34],
  [23, 190, 207],
  [174, 199, 232],
  [255, 187, 120],
  [152, 223, 138],
  [255, 152, 150],
  [197, 176, 213],
  [196, 156, 148],
  [247, 182, 210],
  [199, 199, 199],
  [219, 219, 141],
  [158, 218, 229],
];
/** How much of a pixel's colour is its class's, so the photo stays readable under the mask. */
const MASK_OPACITY = 0.55;

export function classColour(index: number): readonly [number, number, number] {
  return PALETTE[index % PALETTE.length];
}

/** The class under photo pixel (x, y), or undefined outside the part of the photo the model saw. */
export function classAt(x: number, y: number): number | undefined {
  const s = state.segmentation;
  if (!s) return undefined;
  const u = (x + 0.5 - s.crop.x) / s.crop.width;
  const v = (y + 0.5 - s.crop.y) / s.crop.height;
  if (!(u >= 0 && u < 1 && v >= 0 && v < 1)) return undefined;
  return s.classes[Math.floor(v * s.height) * s.width + Math.floor(u * s.width)];
}

/** The photo with the mask over it, or nothing for a model that does not segment. */
export function drawMask(): void {
  const image = state.image;
  ui.mask.hidden = !state.segmentation || !image;
  if (ui.mask.hidden || !image) return;
  const { width, height, data } = image;
  const rgba = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const p = y * width + x;
      const c = classAt(x, y);
      const colour = c === undefined ? undefined : classColour(c);
      for (let k = 0; k < 3; k++) {
        const photo = data[p * 3 + k];
        rgba[p * 4 + k] = colour ? photo + MASK_OPACITY * (colour[k] - photo) : photo;
      }
      rgba[p * 4 + 3] = 255;
    }
  putRgb(ui.mask, width, height, rgba, 4);
}

/** Clicks on the mask pick the class under the pointer. */
export function setUpSegments(pick: (index: number) => void): void {
  ui.mask.addEventListener('click', (event) => {
    const box = ui.mask.getBoundingClientRect();
    const x = Math.floor(((event.clientX - box.left) / box.width) * ui.mask.width);
    const y = Math.floor(((event.clientY - box.top) / box.height) * ui.mask.height);
    const c = classAt(x, y);
    if (c !== undefined) pick(c);
  });
}
