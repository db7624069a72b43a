/**
 * Which detector output format a model's outputs are, from their names and shapes (pure, no I/O). Formats:
 * 'yolov8'      one output [N, 4 + C, A]: cx, cy, w, h in input pixels, then C class scores (Ultralytics v8/v11);
 * 'yolov5'      one output [N, A, 5 + C]: cx, cy, w, h, objectness, then C class scores (YOLOv5/v7);
 * 'yolov8-seg'  the yolov8 layout with M mask coefficients after the class scores, plus prototypes [N, M, h, w];
 * 'yolov5-seg'  the yolov5 layout with M mask coefficients after the class scores, plus prototypes;
 * 'post-nms'    boxes [N, K, 4] + scores [N, K] + classes [N, K] (+ num_detections [N]), found by name
 *               (torchvision, TF Object Detection API, SSD exports); the batch axis may be absent;
 * 'post-nms-tensor' one [N, K, 6] (x0, y0, x1, y1, score, class: Ultralytics end-to-end, YOLOv10) or [K, 7] /
 *               [N, K, 7] (batch, x0, y0, x1, y1, class, score: YOLOv7's end-to-end ONNX Runtime export).
 * Shapes decide where they are unambiguous: the anchor axis is the longer one. A square [N, 84, 84], or a
 * channel-last output with 6 or 7 channels (a one- or two-class YOLOv5, or post-NMS rows), is refused in words.
 * A YOLOv8 output transposed to [N, A, 4 + C] reads as yolov5 by shape: pass the format for such exports.
 * A given format fixes objectness (yolov5 has it, yolov8 not); its axes are the format's own unless the output
 * is clearly transposed (the format's channel axis is the longer one), so 'yolov8' also reads [N, A, 4 + C].
 */
import { describe, SightlineError } from '../core/errors.js';
import { formatCount } from '../core/text.js';

export type DetectFormat = 'yolov8' | 'yolov5' | 'yolov8-seg' | 'yolov5-seg' | 'post-nms' | 'post-nms-tensor';

export const DETECT_FORMATS: readonly DetectFormat[] = [
  'yolov8',
  'yolov5',
  'yolov8-seg',
  'yolov5-seg',
  'post-nms',
  'post-nms-tensor',
];

export interface OutputShape {
  readonly name: string;
  readonly dims: readonly number[];
}

/** A raw YOLO layout: where each number of an anchor lies in the main output. */
export interface RawLayout {
  readonly kind: 'raw';
  readonly format: 'yolov8' | 'yolov5' | 'yolov8-seg' | 'yolov5-seg';
  /** Index of the main output among the model's outputs. */
  readonly output: number;
  /** True for [N, channels, A] (yolov8), false for [N, A, channels] (yolov5). */
  readonly channelsFirst: boolean;
  readonly anchors: number;
  readonly classes: number;
  readonly objectness: boolean;
  /** Mask coefficients per anchor (0 without prototypes). */
  readonly maskCoefficients: number;
  /** Index of the prototype output [N, M, h, w], for the seg formats. */
  readonly protos?: number;
}

export interface PostNmsLayout {
  readonly kind: 'post-nms';
  readonly format: 'post-nms';
  readonly boxes: number;
  readonly scores: number;
  readonly classes?: number;
  readonly count?: number;
  /** TensorFlow's detection_boxes are ymin, xmin, ymax, xmax in 0–1. */
  readonly tensorflow: boolean;
}

export interface RowsLayout {
  readonly kind: 'rows';
  readonly format: 'post-nms-tensor';
  readonly output: number;
  /** 6: x0, y0, x1, y1, score, class; 7: batch, x0, y0, x1, y1, class, score. */
  readonly width: 6 | 7;
}

export type DetectLayout = RawLayout | PostNmsLayout | RowsLayout;

const NAMES = {
  boxes: ['boxes', 'bboxes', 'detection_boxes', 'pred_boxes'],
  scores: ['scores', 'detection_scores', 'confidences'],
  classes: ['labels', 'classes', 'detection_classes', 'class_ids'],
  count: ['num_detections', 'num_dets', 'count'],
};

/** An output's name as matching sees it: lower case, without a TensorFlow ':0' suffix or a scope path. */
function plainName(name: string): string {
  return name.toLowerCase().replace(/:\d+$/, '').split('/').pop() ?? '';
}

function findNamed(outputs: readonly OutputShape[], names: readonly string[]): number | undefined {
  const i = outputs.findIndex((o) => names.includes(plainName(o.name)));
  return i < 0 ? undefined : i;
}

function shapesText(outputs: readonly OutputShape[]): string {
  const shown = outputs.slice(0, 8).map((o) => `${describe(o.name)} [${o.dims.join(', ')}]`);
  const more = outputs.length > 8 ? ` and ${formatCount(outputs.length - 8)} more` : '';
  return `${shown.join(', ')}${more}`;
}

function refuse(
  outputs: readonly OutputShape[],
  why: string,
  suggest: readonly DetectFormat[] = DETECT_FORMATS,
) {
  return new SightlineError(
    'MODEL_OUTPUT',
    `The model's outputs (${shapesText(outputs)}) ${why}; pass --detect-format with one of ${suggest.join(', ')} (${FORMAT_HELP}).`,
    { outputs: outputs.slice(0, 8).map((o) => ({ name: o.name, dims: o.dims })) },
  );
}

const FORMAT_HELP =
  'yolov8: [N, 4 + C, anchors]; yolov5: [N, anchors, 5 + C]; the -seg forms add mask coefficients and prototypes [N, 32, h, w]; post-nms: outputs named boxes, scores, labels; post-nms-tensor: [N, K, 6] or [K, 7] rows';

/** The layout of `outputs` in `format`, or in the format their names and shapes show when none is given. */
export function recognizeDetectFormat(outputs: readonly OutputShape[], format?: DetectFormat): DetectLayout {
  if (outputs.length === 0) throw refuse(outputs, 'are none at all');
  if (format === 'post-nms' || (format === undefined && findNamed(outputs, NAMES.boxes) !== undefined))
    return postNmsLayout(outputs);
  if (format === 'post-nms-tensor') return rowsLayout(outputs);
  const protos = outputs.findIndex((o) => o.dims.length === 4);
  const mains = outputs.map((_o, i) => i).filter((i) => outputs[i].dims.length === 3);
  const seg = format === undefined ? protos >= 0 : format.endsWith('-seg');
  if (seg && protos < 0)
    throw refuse(outputs, `have no prototype output [N, M, h, w], which ${format} needs`);
  if (mains.length !== 1) {
    if (
      format === undefined &&
      outputs.length === 1 &&
      outputs[0].dims.length === 2 &&
      outputs[0].dims[1] === 7
    )
      return rowsLayout(outputs);
    throw refuse(
      outputs,
      mains.length ? 'hold more than one three-axis output' : 'hold no [N, ·, ·] output a detector gives',
    );
  }
  const main = mains[0];
  const [, p, q] = outputs[main].dims;
  const m = seg ? outputs[protos].dims[1] : 0;
  let channelsFirst: boolean;
  if (format !== undefined) {
    const canonical = format.startsWith('yolov8');
    const transposed = canonical ? p > q : q > p;
    channelsFirst = transposed ? !canonical : canonical;
  } else if (p === q)
    throw refuse(outputs, `are square (${p} × ${p}), so which axis holds the anchors is unknown`);
  else if (p > q && !seg && (q === 6 || q === 7))
    throw refuse(
      outputs,
      `end in ${q} numbers a row, which a one- or two-class YOLOv5 and post-NMS rows both give`,
      ['yolov5', 'post-nms-tensor'],
    );
  else channelsFirst = p < q;
  const channels = channelsFirst ? p : q;
  const anchors = channelsFirst ? q : p;
  const objectness = format !== undefined ? format.startsWith('yolov5') : !channelsFirst;
  const classes = channels - 4 - (objectness ? 1 : 0) - m;
  if (classes < 1)
    throw refuse(
      outputs,
      `give ${channels} numbers an anchor, too few for a box, ${objectness ? 'objectness, ' : ''}${m ? `${m} mask coefficients ` : ''}and one class`,
    );
  const name = `${objectness ? 'yolov5' : 'yolov8'}${seg ? '-seg' : ''}` as RawLayout['format'];
  if (seg) {
    const pd = outputs[protos].dims;
    if (pd[0] !== outputs[main].dims[0]) throw refuse(outputs, 'disagree on the batch size');
  }
  return {
    kind: 'raw',
    format: name,
    output: main,
    channelsFirst,
    anchors,
    classes,
    objectness,
    maskCoefficients: m,
    ...(seg ? { protos } : {}),
  };
}

function postNmsLayout(outputs: readonly OutputShape[]): PostNmsLayout {
  const boxes = findNamed(outputs, NAMES.boxes);
  const scores = findNamed(outputs, NAMES.scores);
  const classes = findNamed(outputs, NAMES.classes);
  const count = findNamed(outputs, NAMES.count);
  if (boxes === undefined || scores === undefined)
    throw refuse(
      outputs,
      `lack an output named ${NAMES[boxes === undefined ? 'boxes' : 'scores'].join(' or ')}, which post-nms needs`,
    );
  const b = outputs[boxes].dims;
  const s = outputs[scores].dims;
  const ok =
    (b.length === 3 || b.length === 2) &&
    b[b.length - 1] === 4 &&
    s.length === b.length - 1 &&
    s.every((d, i) => d === b[i]) &&
    (classes === undefined || outputs[classes].dims.join() === s.join());
  if (!ok)
    throw refuse(
      outputs,
      'are not boxes [N, K, 4] with scores and classes [N, K] (or without the batch axis)',
      ['post-nms'],
    );
  return {
    kind: 'post-nms',
    format: 'post-nms',
    boxes,
    scores,
    ...(classes !== undefined ? { classes } : {}),
    ...(count !== undefined ? { count } : {}),
    tensorflow: plainName(outputs[boxes].name) === 'detection_boxes',
  };
}

function rowsLayout(outputs: readonly OutputShape[]): RowsLayout {
  const i = outputs.findIndex((o) => {
    const w = o.dims[o.dims.length - 1];
    return (o.dims.length === 3 && (w === 6 || w === 7)) || (o.dims.length === 2 && w === 7);
  });
  if (i < 0) throw refuse(outputs, 'hold no [N, K, 6], [N, K, 7] or [K, 7] output', ['post-nms-tensor']);
  return {
    kind: 'rows',
    format: 'post-nms-tensor',
    output: i,
    width: outputs[i].dims[outputs[i].dims.length - 1] as 6 | 7,
  };
}
