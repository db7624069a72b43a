import { invalidArgument, SightlineError } from '../core/errors.js';
import type { AttributionMethod } from '../core/method.js';
import type { Model } from '../core/model.js';
import { occlusion } from './perturbation/occlusion.js';
import { rise } from './perturbation/rise.js';

// biome-ignore lint/suspicious/noExplicitAny: the registry holds methods of every option shape
export type AnyMethod = AttributionMethod<any>;

/**
 * The single source of truth for methods: CLI choices, web menus and report columns come from this list.
 * Kept by hand in one place; a test checks that ids are unique.
 */
export const METHODS: readonly AnyMethod[] = [occlusion, rise];

export function getMethod(id: string): AnyMethod {
  const method = METHODS.find((m) => m.id === id);
  if (!method) throw invalidArgument('method', `one of ${METHODS.map((m) => m.id).join(', ')}`, id);
  return method;
}

/** Fills defaults and checks every option against its spec; unknown names are errors, not silently ignored. */
export function resolveOptions(
  method: AnyMethod,
  given: Record<string, number> = {},
): Record<string, number> {
  const out: Record<string, number> = { ...method.defaults };
  for (const [name, value] of Object.entries(given)) {
    const spec = method.options[name];
    if (!spec) {
      throw invalidArgument(
        `${method.id}.${name}`,
        `one of the options ${Object.keys(method.options).join(', ')}`,
        name,
      );
    }
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw invalidArgument(`${method.id}.${name}`, 'a finite number', value);
    }
    if (spec.type === 'int' && !Number.isInteger(value))
      throw invalidArgument(`${method.id}.${name}`, 'a whole number', value);
    if (spec.min !== undefined && value < spec.min)
      throw invalidArgument(`${method.id}.${name}`, `at least ${spec.min}`, value);
    if (spec.max !== undefined && value > spec.max)
      throw invalidArgument(`${method.id}.${name}`, `at most ${spec.max}`, value);
    out[name] = value;
  }
  return out;
}

/** A method asks for what it needs before its first model call. */
export function checkCapabilities(method: AnyMethod, model: Model): void {
  const missing = method.requires.filter((c) => !model.capabilities.has(c));
  if (missing.length > 0) {
    throw new SightlineError(
      'MISSING_CAPABILITY',
      `Method '${method.id}' needs ${missing.join(', ')}, which this model does not offer; black-box methods (${METHODS.filter(
        (m) => m.requires.every((c) => c === 'predict'),
      )
        .map((m) => m.id)
        .join(', ')}) work with any model.`,
      { method: method.id, missing },
    );
  }
}
