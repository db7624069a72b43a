import { invalidArgument } from '../core/errors.js';
import type { RgbaImage } from '../core/image.js';
import { type ColormapName, colormap, lutIndex, rampPosition } from './colormaps.js';
import type { NormalizeMode } from './normalize.js';

export interface LegendOptions {
  readonly mode: NormalizeMode;
  readonly colormap: ColormapName;
  /** The attribution method's display name, e.g. "Grad-CAM"; with `target`, makes the caption. */
  readonly method?: string;
  /** The class being explained, e.g. "golden retriever". */
  readonly target?: string;
  /** A short note after the caption, e.g. that the target has under 1% probability (core/confidence.ts). */
  readonly note?: string;
}

/**
 * A legend bar, split so that everything but text rasterisation stays pure: `bar` is the background and the
 * colour ramp as pixels; `svg` (same size, transparent) holds the caption and the labels, for whatever draws
 * text (sharp in Node, a canvas in the browser). Without fonts the bar still shows the ramp.
 */
export interface LegendBar {
  readonly bar: RgbaImage;
  readonly svg: string;
  /** Where the ramp lies in the bar, in pixels. */
  readonly ramp: { readonly x: number; readonly y: number; readonly width: number; readonly height: number };
}

const BACKGROUND = 255;
const TEXT_COLOUR = '#222222';
const FONT_FAMILY = 'DejaVu Sans, Helvetica, Arial, sans-serif';
/** Average advance of a sans-serif glyph as a fraction of the font size; used to fit text without measuring it. */
const CHAR_WIDTH = 0.58;

/** End labels (and the middle one for signed maps) that say in words what the colours mean. */
export function legendLabels(mode: NormalizeMode): string[] {
  switch (mode) {
    case 'absolute':
      return ['low attention', 'high attention'];
    case 'positive':
      return ['low', 'strongly for the class'];
    case 'negative':
      return ['low', 'strongly against the class'];
    case 'signed':
      return ['against the class', '0', 'for the class'];
  }
}

export function legendCaption(mode: NormalizeMode, method: string, target: string): string {
  const question =
    mode === 'signed'
      ? 'What spoke for and against'
      : mode === 'positive'
        ? 'What spoke for'
        : mode === 'negative'
          ? 'What spoke against'
          : 'Where the model looked for';
  return `${question} “${target}” · ${method}`;
}

/** Lays out and draws (text aside) a legend bar as wide as the overlay it goes under. */
export function legendBar(width: number, options: LegendOptions): LegendBar {
  if (!(Number.isInteger(width) && width > 0))
    throw invalidArgument('width', 'a positive whole number of pixels', width);
  const labels = legendLabels(options.mode);
  const caption =
    options.method !== undefined && options.target !== undefined
      ? legendCaption(options.mode, options.method, options.target) +
        (options.note ? ` · ${options.note}` : '')
      : undefined;

  // Scale type with the photo, then shrink it until the end labels fit side by side on the ramp.
  let font = Math.min(16, Math.max(10, Math.round(width / 40)));
  const pad = () => Math.max(4, Math.round(font * 0.75));
  const labelsWidth = () =>
    labels.reduce((n, s) => n + s.length, 0) * CHAR_WIDTH * font + font * (labels.length - 1);
  while (font > 7 && labelsWidth() > width - 2 * pad()) font--;
  const margin = Math.min(pad(), Math.floor((width - 1) / 2));
  const line = Math.round(font * 1.4);
  const rampHeight = Math.max(8, Math.round(font * 0.9));
  const perLine = Math.max(1, Math.floor((width - 2 * margin) / (CHAR_WIDTH * font)));
  const captionLines = caption === undefined ? [] : wrap(caption, perLine, options.note ? 3 : 2);

  const rampY = margin + captionLines.length * line;
  const ramp = { x: margin, y: rampY, width: Math.max(1, width - 2 * margin), height: rampHeight };
  const height = rampY + rampHeight + line + margin;

  const data = new Uint8ClampedArray(width * height * 4).fill(BACKGROUND);
  const cmap = colormap(options.colormap);
  const signed = options.mode === 'signed';
  for (let x = 0; x < ramp.width; x++) {
    const t = ramp.width === 1 ? 1 : x / (ramp.width - 1);
    const c = lutIndex(rampPosition(signed ? 2 * t - 1 : t, options.mode, cmap)) * 3;
    for (let y = ramp.y; y < ramp.y + ramp.height; y++) {
      const o = (y * width + ramp.x + x) * 4;
      data[o] = cmap.lut[c];
      data[o + 1] = cmap.lut[c + 1];
      data[o + 2] = cmap.lut[c + 2];
    }
  }

  const baseline = ramp.y + ramp.height + Math.round(font * 1.05);
  const right = ramp.x + ramp.width;
  const anchors = labels.length === 3 ? (['start', 'middle', 'end'] as const) : (['start', 'end'] as const);
  const xs = labels.length === 3 ? [ramp.x, ramp.x + ramp.width / 2, right] : [ramp.x, right];
  const texts = [
    ...captionLines.map((l, i) => text(margin, margin + font + i * line, 'start', l)),
    ...labels.map((label, i) => text(xs[i], baseline, anchors[i], label)),
  ];
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">` +
    `<g font-family="${FONT_FAMILY}" font-size="${font}" fill="${TEXT_COLOUR}">${texts.join('')}</g></svg>`;
  return { bar: { width, height, data }, svg, ramp };
}

function text(x: number, y: number, anchor: 'start' | 'middle' | 'end', content: string): string {
  return `<text x="${x}" y="${y}" text-anchor="${anchor}">${escapeXml(content)}</text>`;
}

/** Greedy word wrap into at most `maxLines` lines of `chars` characters; what does not fit ends in "…". */
function wrap(s: string, chars: number, maxLines: number): string[] {
  const lines: string[] = [];
  let current = '';
  for (const word of s.split(' ')) {
    const candidate = current === '' ? word : `${current} ${word}`;
    if (candidate.length <= chars || current === '') {
      current = candidate;
      continue;
    }
    lines.push(current);
    current = word;
  }
  lines.push(current);
  const ellipsis = (l: string) => `${l.slice(0, Math.max(0, chars - 1)).trimEnd()}…`;
  return lines
    .slice(0, maxLines)
    .map((l, i) => (l.length > chars || (i === maxLines - 1 && lines.length > maxLines) ? ellipsis(l) : l));
}

function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
