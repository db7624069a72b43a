// A detector's detections over the photo: each box with its label and score, the one being explained drawn
// thicker, and a seg detector's mask outlined (tinted lightly over the bare photo, not over a map, whose colours
// must stay true); a click inside a box (not a drag, which marks an area) explains that detection.
import { drawMask, type PhotoMask } from '../../src/browser.js';
import { ui } from './dom.js';
import { state } from './state.js';

/** Pointer travel, in photo pixels, under which a press and release is a click rather than a drag. */
const CLICK_SLACK = 3;

/** The detections of the photo now shown, or none (another task, or a photo not yet looked at). */
function shown() {
  return state.model?.task === 'detect' && state.image && state.predictedFor === state.image
    ? state.predictions.filter((p) => p.box)
    : [];
}

/** Draws the boxes over whatever the overlay canvas holds (the photo, or the photo with its map). */
export function drawDetections(): void {
  const image = state.image;
  const detections = shown();
  if (!image || detections.length === 0) return;
  const context = ui.overlay.getContext('2d')!;
  const side = Math.min(image.width, image.height);
  const line = Math.max(1, Math.round(side / 250));
  const font = Math.max(9, Math.round(side / 28));
  context.font = `${font}px sans-serif`;
  context.textBaseline = 'top';
  // The explained one last, so it is drawn over the others.
  const ordered = [...detections].sort(
    (a, b) => Number(a.index === state.target) - Number(b.index === state.target),
  );
  const overMap = state.explained !== undefined;
  for (const p of ordered) {
    const [x0, y0, x1, y1] = p.box!;
    const chosen = p.index === state.target;
    if (p.mask) outlineMask(context, p.mask, chosen ? line * 2 : line, overMap ? 0 : 0.3);
    const width = chosen ? line * 3 : line;
    // A dark and a light stroke, so the box shows on any photo and any colour of the map.
    context.lineWidth = width + 2;
    context.strokeStyle = 'rgba(0, 0, 0, 0.8)';
    context.strokeRect(x0, y0, x1 - x0, y1 - y0);
    context.lineWidth = width;
    context.strokeStyle = chosen ? '#ffd400' : '#ffffff';
    context.strokeRect(x0, y0, x1 - x0, y1 - y0);
    const text = `${p.label} ${p.score.toFixed(2)}`;
    const textWidth = context.measureText(text).width + 4;
    // Above the box where there is room, else just inside its top.
    const top = y0 - font - 2 >= 0 ? y0 - font - 2 : y0;
    context.fillStyle = chosen ? '#ffd400' : 'rgba(0, 0, 0, 0.7)';
    context.fillRect(x0, top, textWidth, font + 2);
    context.fillStyle = chosen ? '#000000' : '#ffffff';
    context.fillText(text, x0 + 2, top + 1);
  }
}

/** The library's mask drawing (render/masks.ts) on the canvas pixels under the mask's window. */
function outlineMask(
  context: CanvasRenderingContext2D,
  mask: PhotoMask,
  thickness: number,
  tint: number,
): void {
  if (mask.width === 0 || mask.height === 0) return;
  const pixels = context.getImageData(mask.x, mask.y, mask.width, mask.height);
  drawMask(pixels, 4, { ...mask, x: 0, y: 0 }, { thickness, tint });
  context.putImageData(pixels, mask.x, mask.y);
}

/** The smallest detection box holding photo pixel (x, y): the innermost when boxes nest. */
export function detectionAt(x: number, y: number): number | undefined {
  let best: { index: number; area: number } | undefined;
  for (const p of shown()) {
    const [x0, y0, x1, y1] = p.box!;
    const area = (x1 - x0) * (y1 - y0);
    if (x >= x0 && x <= x1 && y >= y0 && y <= y1 && (!best || area < best.area))
      best = { index: p.index, area };
  }
  return best?.index;
}

/** A click (not a drag) on the photo inside a box picks that detection. */
export function setUpDetections(pick: (index: number) => void): void {
  let down: { x: number; y: number } | undefined;
  const toImage = (event: PointerEvent) => {
    const rect = ui.boxes.getBoundingClientRect();
    const image = state.image!;
    return {
      x: ((event.clientX - rect.left) / rect.width) * image.width,
      y: ((event.clientY - rect.top) / rect.height) * image.height,
    };
  };
  ui.boxes.addEventListener('pointerdown', (event) => {
    down = state.image ? toImage(event) : undefined;
  });
  ui.boxes.addEventListener('pointerup', (event) => {
    const start = down;
    down = undefined;
    if (!start || !state.image) return;
    const end = toImage(event);
    if (Math.hypot(end.x - start.x, end.y - start.y) > CLICK_SLACK) return;
    const index = detectionAt(end.x, end.y);
    if (index !== undefined) pick(index);
  });
}
