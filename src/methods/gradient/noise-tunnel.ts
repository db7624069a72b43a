import type { AttributionMap } from '../../core/attribution.js';
import { runGradientBatches } from '../../core/batch.js';
import { invalidArgument, throwIfAborted } from '../../core/errors.js';
import type { AttributionMethod, MethodOptions, OptionSpec } from '../../core/method.js';
import { fillNormal, normalStream } from '../../core/normal.js';
import { batchLike } from '../../core/tensor.js';
import { oneHot } from './common.js';

export interface NoiseTunnelOptions extends MethodOptions {
  samples: number;
  /** Noise standard deviation as a fraction of the input's range (max − min). */
  noise: number;
  seed: number;
}

const TUNNEL_OPTIONS: Record<keyof NoiseTunnelOptions, OptionSpec> = {
  samples: { type: 'int', min: 1, description: 'noisy copies averaged' },
  noise: { type: 'number', min: 0, description: 'noise σ as a fraction of the input range' },
  seed: { type: 'int', min: 0, description: 'random seed; the same seed gives the same map' },
};

/**
 * Wraps any method in a noise tunnel, as Captum's NoiseTunnel does rather than by subclassing:
 * - SmoothGrad (Smilkov et al., "SmoothGrad: removing noise by adding noise", 2017, eq. 3): the mean of the
 *   wrapped method's maps at x + N(0, σ²), σ = noise · (max(x) − min(x)).
 * - VarGrad (Adebayo et al., "Local Explanation Methods for Deep Neural Networks Lack Sensitivity to
 *   Parameter Values", 2018): their variance.
 * Defaults: 25 samples, noise 0.15, seed 0. Output: H × W; SmoothGrad keeps the inner map's sign,
 * VarGrad is non-negative. Cost: samples × the inner method's cost.
 */
export function noiseTunnel<O extends MethodOptions>(
  inner: AttributionMethod<O>,
  kind: 'smoothgrad' | 'vargrad',
  id = `${kind}:${inner.id}`,
): AttributionMethod<O & NoiseTunnelOptions> {
  const clash = ['samples', 'noise'].filter((name) => name in inner.options);
  if (clash.length > 0) {
    throw invalidArgument(
      'method',
      `a method without its own ${clash.join(' or ')} option to wrap in a noise tunnel`,
      inner.id,
    );
  }
  const title = kind === 'smoothgrad' ? 'SmoothGrad' : 'VarGrad';
  return {
    id,
    title: inner.id === 'gradient' ? title : `${title} (${inner.title})`,
    description:
      kind === 'smoothgrad'
        ? `Averages ${inner.title.toLowerCase()} maps over noisy copies of the photo: a steadier, less speckled map.`
        : `The variance of ${inner.title.toLowerCase()} maps over noisy copies of the photo.`,
    requires: inner.requires,
    random: true,
    defaults: { ...inner.defaults, samples: 25, noise: 0.15, seed: 0 } as O & NoiseTunnelOptions,
    options: { ...inner.options, ...TUNNEL_OPTIONS } as AttributionMethod<O & NoiseTunnelOptions>['options'],
    passes: (options, size) => options.samples * inner.passes(options, size),
    async attribute(input, options) {
      const x = input.input.data;
      let min = Number.POSITIVE_INFINITY;
      let max = Number.NEGATIVE_INFINITY;
      for (const v of x) {
        min = Math.min(min, v);
        max = Math.max(max, v);
      }
      const sigma = options.noise * (max - min);
      const stream = normalStream(options.seed);
      // Drawn straight into the copy, then shifted: no array per sample beside the batch.
      const addNoise = (out: Float32Array) => {
        fillNormal(out, stream);
        for (let i = 0; i < x.length; i++) out[i] = x[i] + sigma * out[i];
        return out;
      };
      const noisyCopy = () => addNoise(new Float32Array(x.length));
      let sum: Float64Array | undefined;
      let sumSq: Float64Array | undefined;
      let first: AttributionMap | undefined;
      const add = (map: AttributionMap) => {
        first ??= map;
        sum ??= new Float64Array(map.data.length);
        const d = map.data;
        if (kind === 'smoothgrad') for (let i = 0; i < d.length; i++) sum[i] += d[i];
        else {
          // Only VarGrad needs the squares.
          sumSq ??= new Float64Array(d.length);
          for (let i = 0; i < d.length; i++) {
            sum[i] += d[i];
            sumSq[i] += d[i] * d[i];
          }
        }
      };
      const fromGradient = inner.fromGradient?.bind(inner);
      if (fromGradient) {
        // One gradient per noisy copy: batch the copies instead of calling the model once per sample. Each
        // batch's copies are drawn straight into its input (batches run in order, so the draws are the same
        // as one copy at a time) and only that batch is kept: memory O(batch), not O(samples).
        let batch: Float32Array = new Float32Array(0);
        await runGradientBatches(
          input.model,
          {
            total: options.samples,
            build: (start, end) => {
              const next = batchLike(input.input, end - start);
              for (let s = start; s < end; s++)
                addNoise(next.data.subarray((s - start) * x.length, (s - start + 1) * x.length));
              batch = next.data;
              return next;
            },
            consume: (result, start, end) => {
              for (let s = start; s < end; s++) {
                const at = (s - start) * x.length;
                add(
                  fromGradient(
                    batch.subarray(at, at + x.length),
                    result.gradients.data.subarray(at, at + x.length),
                    input,
                  ),
                );
              }
            },
            signal: input.signal,
            onProgress: input.onProgress,
          },
          (n) => oneHot(n, input.classes, input.target),
        );
      } else {
        const perSample = inner.passes(options, { width: 0, height: 0 });
        for (let s = 0; s < options.samples; s++) {
          throwIfAborted(input.signal);
          const onProgress = input.onProgress;
          add(
            await inner.attribute(
              {
                ...input,
                input: { data: noisyCopy(), dims: input.input.dims },
                onProgress:
                  onProgress &&
                  ((p) =>
                    onProgress({
                      done: s * perSample + p.done,
                      total: options.samples * perSample,
                      unit: p.unit,
                    })),
              },
              options,
            ),
          );
        }
      }
      const n = options.samples;
      const data = new Float32Array(sum!.length);
      for (let i = 0; i < data.length; i++) {
        const mean = sum![i] / n;
        data[i] = kind === 'smoothgrad' ? mean : Math.max(0, sumSq![i] / n - mean * mean);
      }
      return {
        width: first!.width,
        height: first!.height,
        data,
        signed: kind === 'smoothgrad' && first!.signed,
      };
    },
  };
}
