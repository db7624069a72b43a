/**
 * The state of one Layers → ONNX conversion: the nodes and initializers written so far, and for each Keras
 * tensor the ONNX value holding it. Keras keeps images NHWC; ONNX convolutions and pools want NCHW, so a
 * 4-D value stays in whichever layout its producer made and is transposed (once, cached) only where a
 * consumer needs the other. Values of other ranks are always in Keras' own axis order.
 */
import { SightlineError } from '../../core/errors.js';
import { GraphWriter, type Layout, TO_NHWC } from '../onnx/graph-writer.js';
import type { TfjsWeight } from './artifacts.js';

export { type Layout, sanitize } from '../onnx/graph-writer.js';

export interface Value {
  readonly name: string;
  /** Keras' shape without the batch axis (so [H, W, C] for an image), whatever the layout. */
  readonly shape: readonly number[];
  /** Only 4-D values (shape of length 3) may be NCHW. */
  readonly layout: Layout;
}

/** One call of a Keras layer, as a layer rule sees it. */
export interface LayerCall {
  readonly className: string;
  /** The layer's name in the file. */
  readonly name: string;
  /** The name its outputs get in the ONNX graph: nested models' names, then the layer's. */
  readonly path: string;
  readonly config: Readonly<Record<string, unknown>>;
  readonly inputs: readonly Value[];
  /** The weight `key` (kernel, bias, gamma, …), checked against the shape the layer implies. */
  weight(key: string, shape: readonly number[]): Float32Array;
  /** The shape of weight `key` as the file stores it, or undefined when the file has none. */
  weightShape(key: string): readonly number[] | undefined;
}

/** Converts one call of a Keras layer: reads its inputs, writes ONNX nodes, returns its output values. */
export type LayerRule = (call: LayerCall, ctx: ConversionContext) => Value | readonly Value[];

export class ConversionContext extends GraphWriter {
  private readonly zeroPadded = new Set<string>();

  /** The name of `value` in `layout`; only 4-D values have an NCHW form. */
  as(value: Value, layout: Layout): string {
    if (value.layout === layout) return value.name;
    if (value.shape.length !== 3) {
      throw new SightlineError(
        'MODEL_SHAPE',
        `Value '${value.name}' [${value.shape.join(', ')}] has no ${layout} form; expected an image [H, W, C].`,
      );
    }
    return this.transposed(value.name, layout);
  }

  /** Records that value `name` is the output of a zero Pad (see layers/pool.ts for why that matters). */
  markZeroPadded(name: string): void {
    this.zeroPadded.add(name);
  }

  isZeroPadded(name: string): boolean {
    return this.zeroPadded.has(name);
  }

  /**
   * Gives a value made by this layer its final name (the layer's path), so feature maps show up under the
   * names the user knows. Only the producing node's output changes, and nothing reads it yet.
   */
  rename(value: Value, wanted: string, fromNode: number): Value {
    const producer = this.nodes.slice(fromNode).find((n) => n.output?.[0] === value.name);
    if (this.renameOutput(producer, wanted) !== wanted) return value;
    if (this.zeroPadded.has(value.name)) this.zeroPadded.add(wanted);
    return { ...value, name: wanted };
  }
}

/** The ONNX axis of Keras axis `axis` (counting the batch, possibly negative) of `value`. */
export function onnxAxis(value: Value, axis: number, call: LayerCall): number {
  const rank = value.shape.length + 1;
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 1 || a >= rank) {
    throw new SightlineError(
      'MODEL_SHAPE',
      `Layer '${call.name}' (${call.className}) uses axis ${axis} of an input of rank ${rank}; expected a non-batch axis.`,
      { layer: call.name, className: call.className },
    );
  }
  return value.layout === 'NCHW' ? TO_NHWC[a] : a;
}

/** A layer's weights looked up by name in the file's weights, tolerating the prefixes exporters add. */
export function weightLookup(
  weights: ReadonlyMap<string, TfjsWeight>,
): (scope: readonly string[], layer: string, key: string) => TfjsWeight | undefined {
  const bySuffix = new Map<string, string[]>();
  for (const name of weights.keys()) {
    const clean = name.replace(/:\d+$/, '');
    const parts = clean.split('/');
    // Index every trailing "layer/key" pair: Keras exports may prefix the model's or a scope's name.
    for (let i = parts.length - 2; i >= 0; i--) {
      const suffix = parts.slice(i).join('/');
      const list = bySuffix.get(suffix) ?? [];
      list.push(name);
      bySuffix.set(suffix, list);
    }
  }
  return (scope, layer, key) => {
    const exact = [...scope, layer, key].join('/');
    if (weights.has(exact)) return weights.get(exact);
    const candidates = bySuffix.get(`${layer}/${key}`) ?? [];
    if (candidates.length === 1) return weights.get(candidates[0]);
    if (candidates.length === 0) return undefined;
    // Several layers share the name in different nested models: prefer the one under this scope.
    const scoped = candidates.filter((c) => scope.every((s) => c.split('/').includes(s)));
    if (scoped.length === 1) return weights.get(scoped[0]);
    throw new SightlineError(
      'MODEL_LOAD',
      `Weight '${layer}/${key}' is ambiguous: the file has ${candidates.map((c) => `'${c}'`).join(', ')}.`,
      { layer, weight: key },
    );
  };
}
