// How long a method will take, from its pass count and the model's measured forward pass. No DOM.
import type { MethodInfo } from './protocol.js';
import { state } from './state.js';

/** A gradient pass costs about this many forward passes (measured on the default model in Node: 275 vs 90 ms). */
const GRADIENT_COST = 3;

/** Relative cost of one map in forward passes. */
export function cost(m: MethodInfo): number {
  return m.passes * (m.gradientPasses ? GRADIENT_COST : 1);
}

export function estimateSeconds(m: MethodInfo): number | undefined {
  return state.forwardMs === undefined ? undefined : (cost(m) * state.forwardMs) / 1000;
}

/** Words for a menu entry: ' — fast', ' — about 2 min', or nothing for middling methods before any timing. */
export function speedNote(m: MethodInfo): string {
  const seconds = estimateSeconds(m);
  if (seconds === undefined) return cost(m) <= 10 ? ' — fast' : cost(m) <= 200 ? '' : ' — slow';
  return seconds < 3 ? ' — fast' : ` — about ${duration(seconds)}`;
}

export function duration(seconds: number): string {
  if (seconds < 90) return `${Math.max(1, Math.round(seconds))} s`;
  return `${Math.round(seconds / 60)} min`;
}

export function methodInfo(id: string): MethodInfo | undefined {
  return state.model?.methods.find((m) => m.id === id);
}
