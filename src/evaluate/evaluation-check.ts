// An image's evaluation read back from evaluation.json (a resumed run) or sent by a queue worker: untrusted
// (anyone who can write the folder or the Redis server can change it), so rebuilt field by field from what
// evaluate.ts writes, or refused with the field that is wrong. NaN values were written as null by JSON and are
// read back as NaN, so a constant map's ρ stays "not a number" rather than becoming 0 or being refused.
import { bad, checked, integer, list, number, optional, record, text } from '../core/untrusted.js';
import { checkTargetDescription } from '../explain/description-check.js';
import { type ImageEvaluation, METRICS, type MetricName } from './evaluate.js';

const MAX_NAME = 4096;
const MAX_MESSAGE = 20_000;
const MAX_METHODS = 1000;
/** Longest deletion/insertion curve: one step per input row of the largest input a model may declare. */
const MAX_CURVE = 100_000;
const MAX_STEPS = 10_000;
const MAX_PAIRS = MAX_METHODS * MAX_METHODS;

/** The evaluation rebuilt from its expected fields, or why it cannot be one (a fragment naming the field). */
export function checkEvaluation(value: unknown): { evaluation: ImageEvaluation } | { problem: string } {
  const result = checked(value, rebuild);
  return 'value' in result ? { evaluation: result.value } : result;
}

function rebuild(value: unknown): ImageEvaluation {
  const o = record(value, 'the image');
  const t = record(o.target, 'target');
  const target: Record<string, unknown> = {
    index: integer(t.index, 'target.index', 0, 100_000_000),
    label: text(t.label, 'target.label', MAX_NAME),
  };
  optional(t, target, 'description', (v) => checkTargetDescription(v, 'target.description'));
  const out: Record<string, unknown> = {
    file: name(o.file, 'file'),
    target,
    methods: list(o.methods, 'methods', MAX_METHODS).map((m, i) => method(m, `methods[${i}]`)),
  };
  optional(o, out, 'randomization', (v) => {
    const r = record(v, 'randomization');
    return Object.fromEntries(
      Object.entries(r).map(([key, steps]) => [
        name(key, 'randomization method'),
        list(steps, `randomization.${key}`, MAX_STEPS).map((s, i) => step(s, `randomization.${key}[${i}]`)),
      ]),
    );
  });
  optional(o, out, 'randomizationError', (v) => text(v, 'randomizationError', MAX_MESSAGE));
  optional(o, out, 'agreement', (v) =>
    list(v, 'agreement', MAX_PAIRS).map((p, i) => {
      const what = `agreement[${i}]`;
      const a = record(p, what);
      return {
        a: name(a.a, `${what}.a`),
        b: name(a.b, `${what}.b`),
        rankCorrelation: orNaN(a.rankCorrelation, `${what}.rankCorrelation`),
        topOverlap: orNaN(a.topOverlap, `${what}.topOverlap`),
      };
    }),
  );
  return out as unknown as ImageEvaluation;
}

function method(v: unknown, what: string) {
  const m = record(v, what);
  const values = record(m.values, `${what}.values`);
  const known: Partial<Record<MetricName, number>> = {};
  for (const [key, x] of Object.entries(values)) {
    if (!(METRICS as readonly string[]).includes(key)) bad(`'${what}.values' has '${key}', not a metric`);
    known[key as MetricName] = orNaN(x, `${what}.values.${key}`);
  }
  const out: Record<string, unknown> = {
    method: name(m.method, `${what}.method`),
    values: known,
    seconds: number(m.seconds, `${what}.seconds`, 0),
  };
  optional(m, out, 'curves', (c) => {
    const curves = record(c, `${what}.curves`);
    const curve = (key: string) =>
      list(curves[key], `${what}.curves.${key}`, MAX_CURVE).map((x, i) =>
        number(x, `${what}.curves.${key}[${i}]`),
      );
    return { deletion: curve('deletion'), insertion: curve('insertion') };
  });
  optional(m, out, 'error', (e) => text(e, `${what}.error`, MAX_MESSAGE));
  optional(m, out, 'constantMap', (c) => {
    if (c !== true) bad(`'${what}.constantMap' is not true`);
    if (Object.keys(known).length > 0) bad(`'${what}' has values for a constant map`);
    return true;
  });
  return out;
}

function step(v: unknown, what: string) {
  const s = record(v, what);
  return {
    layer: text(s.layer, `${what}.layer`, MAX_NAME),
    weights: integer(s.weights, `${what}.weights`, 0),
    spearmanAbs: orNaN(s.spearmanAbs, `${what}.spearmanAbs`),
    spearman: orNaN(s.spearman, `${what}.spearman`),
    ssim: orNaN(s.ssim, `${what}.ssim`),
  };
}

function name(v: unknown, what: string): string {
  const s = text(v, what, MAX_NAME);
  if (s === '') bad(`'${what}' is empty`);
  return s;
}

/** A finite number, or NaN where JSON wrote null for it. */
function orNaN(v: unknown, what: string): number {
  return v === null ? Number.NaN : number(v, what);
}
