// The boxes the user marks over the photo (by pointer or keyboard) and the verdict: how much of the map's
// attention falls inside them.
import { type Box, regionAttention, regionVerdict } from '../../src/browser.js';
import { ui } from './dom.js';
import { showMessage } from './messages.js';
import { boxAdded, boxesCleared, regionMeasured, state } from './state.js';

type Point = { x: number; y: number };

/** Where a pointer drag began, while it lasts. */
let dragStart: Point | undefined;
/** The box being dragged or placed by keyboard, drawn but not yet kept. */
let dragBox: Box | undefined;
/** The box placed with the keyboard, until Enter keeps it or Escape drops it. */
let keyBox: Box | undefined;

function toImage(event: PointerEvent): Point {
  const rect = ui.boxes.getBoundingClientRect();
  const image = state.image!;
  const x = ((event.clientX - rect.left) / rect.width) * image.width;
  const y = ((event.clientY - rect.top) / rect.height) * image.height;
  return { x: Math.min(image.width, Math.max(0, x)), y: Math.min(image.height, Math.max(0, y)) };
}

function spanBox(a: Point, b: Point): Box {
  return {
    x: Math.min(a.x, b.x),
    y: Math.min(a.y, b.y),
    width: Math.abs(a.x - b.x),
    height: Math.abs(a.y - b.y),
  };
}

function clamp(v: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, v));
}

/**
 * The keyboard way to mark an area: Enter places a box in the middle, arrows move it, Shift+arrows resize it,
 * Enter keeps it, Escape drops it.
 */
function onKey(event: KeyboardEvent): void {
  const image = state.image;
  if (!image) return;
  const step = Math.max(1, Math.round(Math.min(image.width, image.height) / 40));
  const confirm = event.key === 'Enter' || event.key === ' ';
  if (!keyBox) {
    if (!confirm) return;
    keyBox = {
      x: (image.width * 3) / 8,
      y: (image.height * 3) / 8,
      width: image.width / 4,
      height: image.height / 4,
    };
  } else if (confirm) {
    boxAdded(keyBox);
    keyBox = undefined;
    updateVerdict();
  } else if (event.key === 'Escape') keyBox = undefined;
  else {
    const moves: Record<string, [number, number]> = {
      ArrowLeft: [-step, 0],
      ArrowRight: [step, 0],
      ArrowUp: [0, -step],
      ArrowDown: [0, step],
    };
    const move = moves[event.key];
    if (!move) return;
    const b = keyBox;
    keyBox = event.shiftKey
      ? {
          ...b,
          width: clamp(b.width + move[0], step, image.width - b.x),
          height: clamp(b.height + move[1], step, image.height - b.y),
        }
      : {
          ...b,
          x: clamp(b.x + move[0], 0, image.width - b.width),
          y: clamp(b.y + move[1], 0, image.height - b.height),
        };
  }
  event.preventDefault();
  dragBox = keyBox;
  drawBoxes();
}

export function drawBoxes(): void {
  const image = state.image;
  if (!image) return;
  ui.boxes.width = image.width;
  ui.boxes.height = image.height;
  const context = ui.boxes.getContext('2d')!;
  context.clearRect(0, 0, image.width, image.height);
  const line = Math.max(2, Math.round(Math.min(image.width, image.height) / 200));
  for (const box of dragBox ? [...state.boxes, dragBox] : state.boxes) {
    // A dark and a light stroke, so the box shows on any photo and any colour of the map.
    context.lineWidth = line * 2;
    context.strokeStyle = 'rgba(0, 0, 0, 0.8)';
    context.strokeRect(box.x, box.y, box.width, box.height);
    context.lineWidth = line;
    context.strokeStyle = '#ffffff';
    context.strokeRect(box.x, box.y, box.width, box.height);
  }
}

/** Measures the current map inside the boxes and shows the verdict. */
export function updateVerdict(): void {
  const map = state.explained?.map;
  regionMeasured(undefined);
  if (map && state.boxes.length > 0) {
    try {
      // Attention is the evidence for the class unless the user asked to see magnitudes.
      const attention = regionAttention(map, state.boxes, {
        mode: map.signed && ui.mode.value !== 'absolute' ? 'positive' : 'absolute',
      });
      regionMeasured({ attention, ...regionVerdict(attention) });
    } catch (error) {
      showMessage(error);
    }
  }
  showVerdict();
}

export function showVerdict(): void {
  const region = state.region;
  ui.verdict.className = `verdict ${region?.level ?? ''}`;
  if (!region) {
    ui.verdict.textContent = state.boxes.length > 0 ? '' : 'No area marked yet.';
    ui.verdictNumbers.textContent = '';
    return;
  }
  const a = region.attention;
  ui.verdict.textContent = region.sentence;
  ui.verdictNumbers.textContent =
    `Inside the marked area: ${percent(a.share)} of the attention, on ${percent(a.areaShare)} of the photo ` +
    `(${a.concentration.toFixed(1)}× what its size would get by chance). Strongest point: ${a.peakInside ? 'inside' : 'outside'}.`;
}

function percent(x: number): string {
  return `${Math.round(x * 100)}%`;
}

export function setUpRegion(): void {
  ui.boxes.addEventListener('pointerdown', (event) => {
    if (!state.image) return;
    ui.boxes.setPointerCapture(event.pointerId);
    dragStart = toImage(event);
    dragBox = undefined;
  });
  ui.boxes.addEventListener('pointermove', (event) => {
    if (!dragStart) return;
    dragBox = spanBox(dragStart, toImage(event));
    drawBoxes();
  });
  ui.boxes.addEventListener('pointerup', (event) => {
    if (!dragStart) return;
    const box = spanBox(dragStart, toImage(event));
    dragStart = undefined;
    dragBox = undefined;
    const image = state.image!;
    // A click, or a sliver under 1% of the photo's side, is not a box anyone meant to draw.
    const least = Math.max(2, 0.01 * Math.min(image.width, image.height));
    if (box.width >= least && box.height >= least) boxAdded(box);
    drawBoxes();
    updateVerdict();
  });
  ui.boxes.addEventListener('keydown', onKey);
  ui.clearBoxes.addEventListener('click', () => {
    boxesCleared();
    drawBoxes();
    updateVerdict();
  });
}
