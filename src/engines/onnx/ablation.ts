/**
 * Channel ablation (Model.ablate, capability 'layers'): the forward graph with one layer's values multiplied
 * channel by channel by a new input before any node reads them, so a method can zero channels of a layer and
 * read the scores the rest of the model makes of it (AblationCAM) in one batched forward pass, with no
 * autodiff and no copy of the activations through JavaScript.
 */
import { SightlineError } from '../../core/errors.js';
import type { LayerInfo } from '../../core/model.js';
import type { Tensor } from '../../core/tensor.js';
import type { OrtSession } from './open-session.js';
import { encodeModel, type ModelProto, valueInfo } from './proto.js';

/** The new input's name: prefixed so it cannot meet a name the exporter chose. */
export const ABLATION_SCALE = 'sightline_ablation/scale';
const SCALED = 'sightline_ablation/scaled';

/** Where a layer's channels are: axis 1 of a map [N, C, h, w], the last axis of tokens and channels-last maps. */
function channelAxis(info: LayerInfo): number {
  return !info.kind || info.kind === 'map' ? 1 : info.dims.length - 1;
}

/**
 * The model with `info`'s tensor scaled by ABLATION_SCALE (shaped to broadcast over all but the batch and
 * channel axes) for every node that reads it. The Mul goes right after the tensor's producer, keeping the
 * nodes in the topological order ONNX requires. A 'tokens' layer's extra tokens are scaled too: a channel is
 * ablated everywhere it occurs.
 */
export function withChannelScale(proto: ModelProto, info: LayerInfo): ModelProto {
  const axis = channelAxis(info);
  const dims = info.dims.map((d, i) => (i === 0 ? 'N' : i === axis ? d : 1));
  const graph = proto.graph ?? {};
  const nodes = (graph.node ?? []).map((node) =>
    node.input?.includes(info.name)
      ? { ...node, input: node.input.map((n) => (n === info.name ? SCALED : n)) }
      : node,
  );
  const at = nodes.findIndex((node) => node.output?.includes(info.name));
  nodes.splice(at + 1, 0, { opType: 'Mul', input: [info.name, ABLATION_SCALE], output: [SCALED] });
  return {
    ...proto,
    graph: { ...graph, node: nodes, input: [...(graph.input ?? []), valueInfo(ABLATION_SCALE, dims)] },
  };
}

/** The scale [N, C] as the graph's input takes it: ones on every axis but the batch and the channels. */
export function channelScaleFeed(info: LayerInfo, scale: Tensor): Tensor {
  const axis = channelAxis(info);
  const [n, channels] = scale.dims;
  if (scale.dims.length !== 2 || channels !== info.dims[axis] || scale.data.length !== n * channels) {
    throw new SightlineError(
      'INVALID_ARGUMENT',
      `A channel scale for layer '${info.name}' must be [N, ${info.dims[axis]}]; got [${scale.dims.join(', ')}].`,
      { layer: info.name },
    );
  }
  const dims = info.dims.map((d, i) => (i === 0 ? n : i === axis ? d : 1));
  return { data: scale.data, dims };
}

/** The ablation graphs of one model, one session per layer, made on first use. */
export class ChannelAblation {
  private readonly sessions = new Map<string, Promise<OrtSession>>();

  constructor(private readonly open: (bytes: Uint8Array) => Promise<OrtSession>) {}

  session(proto: ModelProto, info: LayerInfo): Promise<OrtSession> {
    let pending = this.sessions.get(info.name);
    if (!pending) {
      pending = this.open(encodeModel(withChannelScale(proto, info)));
      this.sessions.set(info.name, pending);
      // A failed open is tried again on the next call rather than remembered.
      pending.catch(() => this.sessions.delete(info.name));
    }
    return pending;
  }

  async release(): Promise<void> {
    for (const pending of this.sessions.values()) await (await pending.catch(() => undefined))?.release();
    this.sessions.clear();
  }
}
