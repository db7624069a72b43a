// A target's description read back from an audit journal or evaluation.json: untrusted, so rebuilt from the
// fields explain.ts writes for each kind, or refused (BadField) naming the field that is wrong.
import { bad, integer, number, record, text } from '../core/untrusted.js';
import type { TargetDescription } from '../explain.js';

const MAX_NAME = 4096;
/** Largest class index, embedding length or output grid side a description may claim. */
const MAX_VALUES = 100_000_000;
const MAX_COORD = 1e9;
const SEGMENT_REGIONS: readonly string[] = ['class pixels', 'box', 'mask'];

export function checkTargetDescription(v: unknown, where: string): TargetDescription {
  const d = record(v, where);
  const what = (field: string) => `${where}.${field}`;
  if (d.kind === 'similarity') {
    if (d.reference !== 'image' && d.reference !== 'vector')
      bad(`'${what('reference')}' is not 'image' or 'vector'`);
    return {
      kind: 'similarity',
      reference: d.reference,
      dimensions: integer(d.dimensions, what('dimensions'), 1, MAX_VALUES),
      cosine: number(d.cosine, what('cosine'), -1.0001, 1.0001),
    };
  }
  if (d.kind === 'detection') {
    const box = d.box;
    if (!Array.isArray(box) || box.length !== 4) bad(`'${what('box')}' is not a box [x0, y0, x1, y1]`);
    const corners = box.map((c, i) => number(c, `${what('box')}[${i}]`, -MAX_COORD, MAX_COORD));
    return {
      kind: 'detection',
      detection: integer(d.detection, what('detection'), 0, MAX_VALUES),
      class: integer(d.class, what('class'), 0, MAX_VALUES),
      score: number(d.score, what('score')),
      box: corners as unknown as readonly [number, number, number, number],
    };
  }
  if (d.kind !== 'segment') bad(`'${what('kind')}' is not 'segment', 'similarity' or 'detection'`);
  if (!SEGMENT_REGIONS.includes(d.region as string))
    bad(`'${what('region')}' is not one of ${SEGMENT_REGIONS.join(', ')}`);
  const gridWidth = integer(d.gridWidth, what('gridWidth'), 1, MAX_VALUES);
  const gridHeight = integer(d.gridHeight, what('gridHeight'), 1, MAX_VALUES);
  const out: Record<string, unknown> = {
    kind: 'segment',
    class: integer(d.class, what('class'), 0, MAX_VALUES),
    region: d.region,
    pixels: integer(d.pixels, what('pixels'), 1, gridWidth * gridHeight),
    gridWidth,
    gridHeight,
  };
  if (d.passedOver !== undefined) {
    const p = record(d.passedOver, what('passedOver'));
    out.passedOver = {
      index: integer(p.index, `${what('passedOver')}.index`, 0),
      label: text(p.label, `${what('passedOver')}.label`, MAX_NAME),
    };
  }
  return out as TargetDescription;
}
