/**
 * TF.js Layers model → ONNX. The model.json's Keras topology (Sequential or Functional, with Sequential and
 * Functional models nested as layers, as Teachable Machine exports are) is walked from its outputs back to
 * its input, one ONNX subgraph per layer call (layers/), with the weights dequantized to float32. The ONNX
 * input and output keep Keras' NHWC layout with a free batch dimension; inside, convolutions run NCHW (see
 * context.ts), and each layer's output takes the layer's name (nested models' names first), so CAM methods
 * list feature maps under the names the user knows.
 */
import { SightlineError } from '../../core/errors.js';
import { buildModel, DataType, type ModelProto, valueInfo } from '../onnx/proto.js';
import { decodeWeights, isGraphModel, type TfjsArtifacts, type TfjsWeight } from './artifacts.js';
import { ConversionContext, type LayerCall, sanitize, type Value, weightLookup } from './context.js';
import { LAYER_ALIASES, LAYER_RULES } from './layers/index.js';

export interface TfjsConvertOptions {
  /** The image size to build for where the model leaves its input height or width open (null). */
  readonly inputSize?: { readonly height: number; readonly width: number };
}

export interface TfjsLayersConversion {
  readonly model: ModelProto;
  /** The float32 input, [N, …] in Keras' order (NHWC for images) with a symbolic batch N. */
  readonly inputName: string;
  readonly outputName: string;
  /** Input and output shapes without the batch axis. */
  readonly inputShape: readonly number[];
  readonly outputShape: readonly number[];
  /** How many layer calls of each Keras class the model makes (nested models walked, not counted). */
  readonly layerCounts: Record<string, number>;
}

// Module-level values are marked pure so bundlers drop the converter from pages that never call it (the web
// app's main thread imports the same public entry as its worker).
const MODEL_CLASSES = /* @__PURE__ */ new Set(['Sequential', 'Model', 'Functional']);

/** The Keras layer classes convertTfjsLayers handles (nested Sequential and Functional models included). */
export const SUPPORTED_TFJS_LAYERS: readonly string[] = /* @__PURE__ */ supportedLayers();

function supportedLayers(): string[] {
  return [...Object.keys(LAYER_RULES), ...Object.keys(LAYER_ALIASES), ...MODEL_CLASSES, 'InputLayer'].sort();
}

/** A layer as the topology stores it: class, config, and (inside a Functional model) its calls. */
interface LayerSpec {
  readonly class_name: string;
  readonly name?: string;
  readonly config: Record<string, unknown>;
  readonly inbound_nodes?: unknown;
}

/** A reference to a Keras tensor: [layer name, node index, tensor index]. */
type TensorRef = readonly [string, number, number];

/** Converts a TF.js Layers model (model.json and weights) to an ONNX model (opset 17). */
export function convertTfjsLayers(
  artifacts: TfjsArtifacts,
  options: TfjsConvertOptions = {},
): TfjsLayersConversion {
  if (isGraphModel(artifacts.modelJson)) {
    throw new SightlineError(
      'UNSUPPORTED_OP',
      'This TF.js model is a Graph model (converted from a SavedModel), which the ONNX converter does not read; it converts Layers models only.',
      { format: 'graph-model' },
    );
  }
  const top = topLevelModel(artifacts.modelJson.modelTopology);
  const ctx = new ConversionContext();
  const walker = new Walker(ctx, decodeWeights(artifacts));
  const inputShape = resolveInputShape(top, options);
  const input: Value = {
    name: ctx.unique(sanitize(inputLayerName(top) ?? 'input')),
    shape: inputShape,
    layout: 'NHWC',
  };
  const outputs = walker.model(top, [input], []);
  if (outputs.length !== 1) {
    throw new SightlineError(
      'MODEL_SHAPE',
      `The TF.js model has ${outputs.length} outputs; expected one score output [N, K].`,
    );
  }
  const last = outputs[0];
  let outputName = ctx.as(last, 'NHWC');
  if (outputName === input.name) outputName = ctx.node('Identity', [input.name], [], 'output');
  const model = buildModel({
    name: typeof top.config.name === 'string' ? top.config.name : 'tfjs',
    inputs: [valueInfo(input.name, ['N', ...inputShape], DataType.FLOAT)],
    outputs: [valueInfo(outputName, ['N', ...last.shape], DataType.FLOAT)],
    nodes: ctx.nodes,
    initializers: ctx.initializers,
    opset: 17,
    metadata: { source: 'tfjs-layers' },
  });
  return {
    model,
    inputName: input.name,
    outputName,
    inputShape,
    outputShape: last.shape,
    layerCounts: walker.counts,
  };
}

class Walker {
  readonly counts: Record<string, number> = {};
  private readonly lookup: ReturnType<typeof weightLookup>;

  constructor(
    private readonly ctx: ConversionContext,
    weights: ReadonlyMap<string, TfjsWeight>,
  ) {
    this.lookup = weightLookup(weights);
  }

  /** A (possibly nested) Sequential or Functional model applied to `inputs`. */
  model(spec: LayerSpec, inputs: readonly Value[], scope: readonly string[]): Value[] {
    if (spec.class_name === 'Sequential') return this.sequential(spec, inputs, scope);
    return this.functional(spec, inputs, scope);
  }

  private sequential(spec: LayerSpec, inputs: readonly Value[], scope: readonly string[]): Value[] {
    let values = [...inputs];
    for (const layer of sequentialLayers(spec)) {
      if (layer.class_name === 'InputLayer') continue;
      values = this.layer(layer, values, scope);
    }
    return values;
  }

  private functional(spec: LayerSpec, inputs: readonly Value[], scope: readonly string[]): Value[] {
    const layers = spec.config.layers;
    if (!Array.isArray(layers)) throw malformed(spec, "has no 'layers' list");
    const byName = new Map<string, LayerSpec>();
    for (const layer of layers as LayerSpec[]) byName.set(layerName(layer), layer);
    const inputRefs = tensorRefs(spec.config.input_layers, spec, 'input_layers');
    const outputRefs = tensorRefs(spec.config.output_layers, spec, 'output_layers');
    if (inputRefs.length !== inputs.length) {
      throw new SightlineError(
        'MODEL_SHAPE',
        `Model '${layerName(spec)}' takes ${inputRefs.length} inputs; it is given ${inputs.length}. Expected one image input.`,
      );
    }
    const done = new Map<string, readonly Value[]>();
    inputRefs.forEach(([name, node], i) => {
      done.set(`${name}:${node}`, [inputs[i]]);
    });
    const pending = new Set<string>();
    const resolve = ([name, node, tensor]: TensorRef): Value => {
      const key = `${name}:${node}`;
      let outs = done.get(key);
      if (!outs) {
        const layer = byName.get(name);
        if (!layer) throw malformed(spec, `refers to layer '${name}', which it does not define`);
        if (layer.class_name === 'InputLayer')
          throw malformed(spec, `reads input layer '${name}', which is not among its input_layers`);
        const calls = inboundNodes(layer);
        if (!calls[node])
          throw malformed(spec, `refers to call ${node} of layer '${name}', which has ${calls.length}`);
        if (pending.has(key)) throw malformed(spec, `has a cycle through layer '${name}'`);
        pending.add(key);
        outs = this.layer(layer, calls[node].map(resolve), scope);
        pending.delete(key);
        done.set(key, outs);
      }
      const value = outs[tensor];
      if (!value)
        throw malformed(spec, `refers to output ${tensor} of layer '${name}', which has ${outs.length}`);
      return value;
    };
    return outputRefs.map(resolve);
  }

  /** One call of a layer (or of a nested model) on `inputs`. */
  private layer(spec: LayerSpec, inputs: readonly Value[], scope: readonly string[]): Value[] {
    const name = layerName(spec);
    if (MODEL_CLASSES.has(spec.class_name)) return this.model(spec, inputs, [...scope, name]);
    const className = LAYER_ALIASES[spec.class_name] ?? spec.class_name;
    const path = [...scope, name].map(sanitize).join('/');
    const call: LayerCall = {
      className: spec.class_name,
      name,
      path,
      config: spec.config ?? {},
      inputs,
      weightShape: (key) => this.lookup(scope, name, key)?.shape,
      weight: (key, shape) => {
        const w = this.lookup(scope, name, key);
        if (!w) {
          throw new SightlineError(
            'MODEL_LOAD',
            `TF.js layer '${name}' (${spec.class_name}) needs weight '${name}/${key}', which the weights manifest does not list.`,
            { layer: name, weight: key },
          );
        }
        if (w.shape.length !== shape.length || w.shape.some((d, i) => d !== shape[i])) {
          throw new SightlineError(
            'MODEL_SHAPE',
            `TF.js layer '${name}' (${spec.class_name}) has weight '${key}' of shape [${w.shape.join(', ')}]; its config and input imply [${shape.join(', ')}].`,
            { layer: name, weight: key },
          );
        }
        return w.data;
      },
    };
    const rule = LAYER_RULES[className];
    if (!rule) {
      throw new SightlineError(
        'UNSUPPORTED_OP',
        `TF.js layer '${name}' (class ${spec.class_name}) is not supported by the ONNX converter. Supported layers: ${SUPPORTED_TFJS_LAYERS.join(', ')}.`,
        { layer: name, className: spec.class_name, supported: SUPPORTED_TFJS_LAYERS },
      );
    }
    if (inputs.length === 0) throw malformed(spec, 'is called on no inputs');
    const start = this.ctx.nodes.length;
    const made = rule(call, this.ctx);
    const outputs = Array.isArray(made) ? made : [made as Value];
    this.counts[spec.class_name] = (this.counts[spec.class_name] ?? 0) + 1;
    return outputs.length === 1 ? [this.ctx.rename(outputs[0], path, start)] : [...outputs];
  }
}

/** The model.json's topology: Keras h5 exports wrap it in model_config. */
function topLevelModel(topology: unknown): LayerSpec {
  const t = topology as { model_config?: unknown; class_name?: unknown; config?: unknown };
  const spec = (t.model_config ?? t) as LayerSpec;
  if (!spec || typeof spec !== 'object' || !MODEL_CLASSES.has(spec.class_name)) {
    throw new SightlineError(
      'MODEL_LOAD',
      `The TF.js model's topology is a '${String(spec?.class_name)}'; expected a Sequential or Functional model.`,
    );
  }
  return spec;
}

function layerName(spec: LayerSpec): string {
  const name = spec.config?.name ?? spec.name;
  if (typeof name !== 'string' || name === '') {
    throw new SightlineError('MODEL_LOAD', `A TF.js layer of class ${spec.class_name} has no name.`);
  }
  return name;
}

/** A Sequential's layers: config.layers, or (old Keras) the config itself as a list. */
function sequentialLayers(spec: LayerSpec): LayerSpec[] {
  const config = spec.config as unknown;
  const layers = Array.isArray(config) ? config : (config as { layers?: unknown })?.layers;
  if (!Array.isArray(layers)) throw malformed(spec, "has no 'layers' list");
  return layers as LayerSpec[];
}

/** input_layers / output_layers: a list of [name, node, tensor], or (Keras 3) one such triple. */
function tensorRefs(raw: unknown, spec: LayerSpec, key: string): TensorRef[] {
  const list = Array.isArray(raw) && typeof raw[0] === 'string' ? [raw] : raw;
  if (!Array.isArray(list) || list.length === 0) throw malformed(spec, `has no '${key}'`);
  return list.map((r) => tensorRef(r, spec));
}

function tensorRef(raw: unknown, spec: LayerSpec): TensorRef {
  if (Array.isArray(raw) && typeof raw[0] === 'string') {
    return [raw[0], Number(raw[1] ?? 0), Number(raw[2] ?? 0)];
  }
  throw malformed(spec, `has a tensor reference ${JSON.stringify(raw)}; expected [layer, node, tensor]`);
}

/**
 * A layer's calls, each as the tensors it reads. Keras 2 (and TF.js) store a call as a list of
 * [layer, node, tensor, kwargs]; Keras 3 as { args, kwargs } with keras_history triples inside args.
 */
function inboundNodes(spec: LayerSpec): TensorRef[][] {
  const raw = spec.inbound_nodes ?? [];
  if (!Array.isArray(raw)) throw malformed(spec, "has malformed 'inbound_nodes'");
  return raw.map((node) => {
    if (Array.isArray(node)) return node.map((r) => tensorRef(r, spec));
    const found: TensorRef[] = [];
    const visit = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(visit);
      else if (v && typeof v === 'object') {
        const history = (v as { config?: { keras_history?: unknown } }).config?.keras_history;
        if (history) found.push(tensorRef(history, spec));
        else Object.values(v).forEach(visit);
      }
    };
    visit((node as { args?: unknown })?.args);
    return found;
  });
}

/** The batch input shape [null, …] a model declares, from its input layer or first layer. */
function declaredInputShape(spec: LayerSpec): unknown {
  if (spec.class_name === 'Sequential') {
    const first = sequentialLayers(spec)[0];
    if (!first) return undefined;
    const own = first.config?.batch_input_shape ?? first.config?.batch_shape;
    if (own) return own;
    if (MODEL_CLASSES.has(first.class_name)) return declaredInputShape(first);
    return spec.config.build_input_shape;
  }
  const [ref] = tensorRefs(spec.config.input_layers, spec, 'input_layers');
  const layer = (spec.config.layers as LayerSpec[]).find((l) => layerName(l) === ref[0]);
  return layer?.config?.batch_input_shape ?? layer?.config?.batch_shape;
}

function inputLayerName(spec: LayerSpec): string | undefined {
  if (spec.class_name === 'Sequential') {
    const first = sequentialLayers(spec)[0];
    if (first?.class_name === 'InputLayer') return layerName(first);
    return first && MODEL_CLASSES.has(first.class_name) ? inputLayerName(first) : undefined;
  }
  return tensorRefs(spec.config.input_layers, spec, 'input_layers')[0][0];
}

function resolveInputShape(spec: LayerSpec, options: TfjsConvertOptions): number[] {
  const declared = declaredInputShape(spec);
  if (!Array.isArray(declared) || declared.length < 2) {
    throw new SightlineError(
      'MODEL_SHAPE',
      'The TF.js model does not declare its input shape (no batch_input_shape on its first layer or input layer).',
    );
  }
  const shape = declared.slice(1).map((d: unknown, i: number) => {
    if (typeof d === 'number' && d > 0) return d;
    if (declared.length === 4 && i < 2 && options.inputSize)
      return i === 0 ? options.inputSize.height : options.inputSize.width;
    return Number.NaN;
  });
  if (shape.some((d) => !Number.isInteger(d))) {
    throw new SightlineError(
      'MODEL_SHAPE',
      `The TF.js model's input [${declared.map((d) => (d === null ? 'null' : String(d))).join(', ')}] has no fixed size; pass --input-size (e.g. 224 or 224x224).`,
    );
  }
  return shape;
}

function malformed(spec: LayerSpec, what: string): SightlineError {
  return new SightlineError('MODEL_LOAD', `TF.js model '${layerName(spec)}' ${what}.`, {
    model: layerName(spec),
  });
}
