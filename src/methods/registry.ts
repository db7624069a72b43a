import { invalidArgument, SightlineError } from '../core/errors.js';
import type { AttributionMethod, MethodOptions, OptionSpec } from '../core/method.js';
import type { Model } from '../core/model.js';
import { ablationCam } from './cam/ablation-cam.js';
import { eigenGradCam } from './cam/eigen-grad-cam.js';
import { finerCam } from './cam/finer-cam.js';
import { scoreCam } from './cam/score-cam.js';
import { CAM_METHODS } from './cam/variants.js';
import { blurIg } from './gradient/blur-ig.js';
import { deepLift, deepLiftShap } from './gradient/deeplift.js';
import { expectedGradients } from './gradient/expected-gradients.js';
import { fullGrad } from './gradient/fullgrad.js';
import { deconvnet, guidedBackprop, guidedGradCam } from './gradient/guided.js';
import { guidedIg } from './gradient/guided-ig.js';
import { integratedGradients } from './gradient/integrated-gradients.js';
import { lrp } from './gradient/lrp.js';
import { noiseTunnel } from './gradient/noise-tunnel.js';
import { gradient, gradientTimesInput } from './gradient/vanilla.js';
import { dRise } from './perturbation/d-rise.js';
import { occlusion } from './perturbation/occlusion.js';
import { rise } from './perturbation/rise.js';
import { sobol } from './perturbation/sobol.js';
import { kernelShap } from './region/kernel-shap.js';
import { lime } from './region/lime.js';
import { xrai } from './region/xrai.js';
import { attentionRollout, gradRollout } from './transformer/rollout.js';

// biome-ignore lint/suspicious/noExplicitAny: the registry holds methods of every option shape
export type AnyMethod = AttributionMethod<any>;

/**
 * The single source of truth for methods: CLI choices, web menus and report columns come from this list.
 * Kept by hand in one place; a test checks that ids are unique.
 */
export const METHODS: readonly AnyMethod[] = [
  gradient,
  gradientTimesInput,
  noiseTunnel(gradient, 'smoothgrad', 'smoothgrad'),
  noiseTunnel(gradient, 'vargrad', 'vargrad'),
  integratedGradients,
  expectedGradients,
  guidedBackprop,
  deconvnet,
  fullGrad,
  deepLift,
  deepLiftShap,
  guidedIg,
  blurIg,
  lrp,
  ...CAM_METHODS,
  guidedGradCam,
  scoreCam,
  ablationCam,
  eigenGradCam,
  finerCam,
  attentionRollout,
  gradRollout,
  occlusion,
  rise,
  dRise,
  sobol,
  lime,
  kernelShap,
  xrai,
].map(namingBlackBoxes);

/** The methods that need nothing but predictions: they run on every model, HTTP and predict-only ones too. */
export function blackBoxMethods(): readonly AnyMethod[] {
  return METHODS.filter((m) => m.requires.every((c) => c === 'predict'));
}

/** What a user can still run on a model that lacks a capability, from the registry. */
function blackBoxAdvice(): string {
  return `black-box methods (${blackBoxMethods()
    .map((m) => m.id)
    .join(', ')}) work with any model`;
}

/**
 * Engines say only what a model cannot do (MISSING_CAPABILITY, or UNSUPPORTED_OP when the autodiff meets an
 * op it cannot differentiate while building a gradient graph, after the capability check); a method that
 * needs more than predictions adds to such an error which methods still run.
 */
function namingBlackBoxes(method: AnyMethod): AnyMethod {
  if (method.requires.every((c) => c === 'predict')) return method;
  return {
    ...method,
    async attribute(input, options) {
      try {
        return await method.attribute(input, options);
      } catch (error) {
        if (
          !(error instanceof SightlineError) ||
          (error.code !== 'MISSING_CAPABILITY' && error.code !== 'UNSUPPORTED_OP')
        )
          throw error;
        throw new SightlineError(
          error.code,
          `${error.message} Method '${method.id}' cannot run on this model; ${blackBoxAdvice()}.`,
          error.details,
          { cause: error },
        );
      }
    },
  };
}

export function getMethod(id: string): AnyMethod {
  const method = METHODS.find((m) => m.id === id);
  if (!method) throw invalidArgument('method', `one of ${METHODS.map((m) => m.id).join(', ')}`, id);
  return method;
}

/** Fills defaults and checks every option against its spec; unknown names are errors, not silently ignored. */
export function resolveOptions<O extends MethodOptions>(
  method: AttributionMethod<O>,
  given: MethodOptions = {},
): O {
  const out: MethodOptions = { ...method.defaults };
  for (const [name, value] of Object.entries(given)) {
    const spec = method.options[name] as OptionSpec | undefined;
    const arg = `${method.id}.${name}`;
    if (!spec)
      throw invalidArgument(arg, `one of the options ${Object.keys(method.options).join(', ')}`, name);
    if (spec.type === 'choice') {
      if (typeof value !== 'string' || !spec.choices?.includes(value)) {
        throw invalidArgument(arg, `one of ${spec.choices?.join(', ')}`, value);
      }
    } else {
      if (typeof value !== 'number' || !Number.isFinite(value))
        throw invalidArgument(arg, 'a finite number', value);
      if (spec.type === 'int' && !Number.isInteger(value))
        throw invalidArgument(arg, 'a whole number', value);
      if (spec.min !== undefined && value < spec.min)
        throw invalidArgument(arg, `at least ${spec.min}`, value);
      if (spec.max !== undefined && value > spec.max)
        throw invalidArgument(arg, `at most ${spec.max}`, value);
    }
    out[name] = value;
  }
  return out as O;
}

/** A method asks for what it needs before its first model call. */
/** Capabilities whose name alone would not tell a user what the model lacks. */
const CAPABILITY_WORDS: Partial<Record<string, string>> = {
  backwardRules:
    'its backward pass rewritten (an ONNX model whose gradients Sightline computes itself, not a TF.js, HTTP or detector-wrapped one)',
  biasGradients:
    'the gradients of its layers’ biases (an ONNX model whose gradients Sightline computes itself)',
  attention:
    'attention over all tokens with a class token (a ViT or DeiT exported to ONNX; Swin attends in local windows without a class token, and a CNN has no attention)',
};

export function checkCapabilities(method: AnyMethod, model: Model): void {
  const missing = method.requires.filter((c) => !model.capabilities.has(c));
  if (missing.length > 0) {
    const needs = missing.map((c) => CAPABILITY_WORDS[c] ?? c).join(', ');
    throw new SightlineError(
      'MISSING_CAPABILITY',
      `Method '${method.id}' needs ${needs}, which this model does not offer; ${blackBoxAdvice()}.`,
      { method: method.id, missing },
    );
  }
}
