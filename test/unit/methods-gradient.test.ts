import { describe, expect, it } from 'vitest';
import { toModelLayout } from '../../src/core/preprocess.js';
import { createRng } from '../../src/core/random.js';
import { baseline } from '../../src/methods/gradient/common.js';
import { expectedGradients } from '../../src/methods/gradient/expected-gradients.js';
import { integratedGradients } from '../../src/methods/gradient/integrated-gradients.js';
import { noiseTunnel } from '../../src/methods/gradient/noise-tunnel.js';
import { INTEGRATION_RULES } from '../../src/methods/gradient/quadrature.js';
import { gradient, gradientTimesInput } from '../../src/methods/gradient/vanilla.js';
import { getMethod, resolveOptions } from '../../src/methods/registry.js';
import { functionModel } from '../helpers/function-model.js';

const relu = (v: number) => Math.max(0, v);
const input = (...values: number[]) => ({ data: Float32Array.from(values), dims: [1, 1, 1, values.length] });

/** Captum's reference model: f(x1, x2) = ReLU(ReLU(x1) − 1 − ReLU(x2)). */
const captumModel = () =>
  functionModel(
    {
      f: (x) => relu(relu(x[0]) - 1 - relu(x[1])),
      grad: (x) => {
        const open = relu(x[0]) - 1 - relu(x[1]) > 0 ? 1 : 0;
        return Float32Array.of(open * (x[0] > 0 ? 1 : 0), -open * (x[1] > 0 ? 1 : 0));
      },
    },
    [1, 1, 1, 2],
  );

/** PAIR saliency's completeness check, as one score: f = 5x + y² + sin z. */
const pairModel = () =>
  functionModel(
    {
      f: (x) => 5 * x[0] + x[1] ** 2 + Math.sin(x[2]),
      grad: (x) => Float32Array.of(5, 2 * x[1], Math.cos(x[2])),
    },
    [1, 1, 1, 3],
    500,
  );

describe('integrated gradients', () => {
  it('gives [1.5, −0.5] for Captum’s f = ReLU(ReLU(x1) − 1 − ReLU(x2)) at (3, 1) from a zero baseline', async () => {
    for (const rule of ['gauss-legendre', 'riemann-middle'] as const) {
      const map = await integratedGradients.attribute(
        { model: captumModel(), input: input(3, 1), target: 0, classes: 1 },
        resolveOptions(integratedGradients, { rule }),
      );
      expect(Array.from(map.data)).toEqual([expect.closeTo(1.5, 6), expect.closeTo(-0.5, 6)]);
      expect(map.signed).toBe(true);
      expect(map.details?.completenessDelta).toBeCloseTo(0, 6);
    }
  });

  it('splits f = 5x + y² + sin z into its terms and is complete, in exactly ⌈(steps + 2) / batch⌉ calls', async () => {
    const model = pairModel();
    const x = input(0.7, 1.3, 2.1);
    const map = await integratedGradients.attribute(
      { model, input: x, target: 0, classes: 1 },
      resolveOptions(integratedGradients, { steps: 1000 }),
    );
    expect(map.data[0]).toBeCloseTo(5 * 0.7, 6);
    expect(map.data[1]).toBeCloseTo(1.3 ** 2, 6);
    expect(map.data[2]).toBeCloseTo(Math.sin(2.1), 6);
    expect(Math.abs(map.details!.completenessDelta)).toBeLessThan(1e-6);
    expect(model.calls).toBe(3);
    expect(model.batches).toEqual([500, 500, 2]);
  });

  it('every rule converges to the integral, Gauss–Legendre fastest', async () => {
    const errors: Record<string, number> = {};
    for (const rule of INTEGRATION_RULES) {
      const map = await integratedGradients.attribute(
        { model: pairModel(), input: input(0.7, 1.3, 2.1), target: 0, classes: 1 },
        resolveOptions(integratedGradients, { rule, steps: 8 }),
      );
      errors[rule] = Math.abs(map.data[2] - Math.sin(2.1));
    }
    // Gauss–Legendre with 8 points is exact to float32 precision here; the midpoint rule is not.
    expect(errors['gauss-legendre']).toBeLessThan(1e-6);
    expect(errors['gauss-legendre']).toBeLessThan(errors['riemann-middle'] / 100);
    expect(errors['riemann-middle']).toBeLessThan(0.01);
    expect(errors['riemann-trapezoid']).toBeLessThan(0.02);
    // Left and right sums are first-order: their errors are an order of magnitude larger.
    expect(errors['riemann-left']).toBeGreaterThan(errors['riemann-middle']);
    expect(errors['riemann-left']).toBeLessThan(0.2);
  });

  it('adaptive refinement meets a tolerance where 50 fixed steps miss a narrow spike', async () => {
    // f = tanh(400 (x − 0.3)) along the path from 0 to 1: the integrand is a spike of width ~0.005 at α = 0.3,
    // and IG must equal f(1) − f(0) (one input, so completeness is the whole answer).
    const steep = () =>
      functionModel(
        {
          f: (x) => Math.tanh(400 * (x[0] - 0.3)),
          grad: (x) => Float32Array.of(400 / Math.cosh(400 * (x[0] - 0.3)) ** 2),
        },
        [1, 1, 1, 1],
        16,
      );
    const exact = Math.tanh(400 * 0.7) - Math.tanh(-120);
    const fixed = await integratedGradients.attribute(
      { model: steep(), input: input(1), target: 0, classes: 1 },
      resolveOptions(integratedGradients, {}),
    );
    expect(Math.abs(fixed.data[0] - exact) / exact).toBeGreaterThan(0.01);
    const adaptive = await integratedGradients.attribute(
      { model: steep(), input: input(1), target: 0, classes: 1 },
      resolveOptions(integratedGradients, { steps: 200, tolerance: 0.001 }),
    );
    expect(Math.abs(adaptive.data[0] - exact) / exact).toBeLessThan(0.001);
    expect(adaptive.details!.relativeDelta).toBeLessThan(0.001);
    expect(adaptive.details!.steps).toBeLessThanOrEqual(200);
  });

  it('starts from a white baseline (pixel 255) when asked', async () => {
    // Linear f = 2·x1 − x2: IG = w ⊙ (x − 255).
    const model = functionModel(
      { f: (x) => 2 * x[0] - x[1], grad: () => Float32Array.of(2, -1) },
      [1, 1, 1, 2],
    );
    const map = await integratedGradients.attribute(
      { model, input: input(10, 20), target: 0, classes: 1 },
      resolveOptions(integratedGradients, { baselineType: 'white', steps: 4 }),
    );
    expect(Array.from(map.data)).toEqual([
      expect.closeTo(2 * (10 - 255), 3),
      expect.closeTo(-1 * (20 - 255), 3),
    ]);
  });

  it('rejects a custom baseline of the wrong shape', async () => {
    await expect(
      integratedGradients.attribute(
        { model: captumModel(), input: input(3, 1), target: 0, classes: 1, baselineInput: input(1, 2, 3) },
        resolveOptions(integratedGradients, { baselineType: 'image' }),
      ),
    ).rejects.toThrow(/baselineImage' must be a reference image shaped like the input \[1, 1, 1, 2\]/);
  });
});

describe('vanilla gradient and gradient × input', () => {
  const model = () =>
    functionModel(
      { f: (x) => 3 * x[0] - 4 * x[1] * x[1], grad: (x) => Float32Array.of(3, -8 * x[1]) },
      [1, 1, 1, 2],
    );
  it('gradient is |∂f/∂x| per pixel', async () => {
    const map = await gradient.attribute({ model: model(), input: input(1, 2), target: 0, classes: 1 }, {});
    expect(Array.from(map.data)).toEqual([3, 16]);
    expect(map.signed).toBe(false);
  });
  it('gradient × input is x · ∂f/∂x, signed', async () => {
    const map = await gradientTimesInput.attribute(
      { model: model(), input: input(1, 2), target: 0, classes: 1 },
      {},
    );
    expect(Array.from(map.data)).toEqual([3, -32]);
    expect(map.signed).toBe(true);
  });
});

describe('noise tunnel', () => {
  const linear = () =>
    functionModel({ f: (x) => 2 * x[0] - 5 * x[1], grad: () => Float32Array.of(2, -5) }, [1, 1, 1, 2]);
  it('SmoothGrad of a linear model is its gradient whatever the noise, and VarGrad is zero', async () => {
    const smooth = getMethod('smoothgrad');
    const map = await smooth.attribute(
      { model: linear(), input: input(1, 2), target: 0, classes: 1 },
      resolveOptions(smooth, { samples: 7 }),
    );
    expect(Array.from(map.data)).toEqual([expect.closeTo(2, 6), expect.closeTo(5, 6)]);
    const vargrad = getMethod('vargrad');
    const v = await vargrad.attribute(
      { model: linear(), input: input(1, 2), target: 0, classes: 1 },
      resolveOptions(vargrad, { samples: 7 }),
    );
    expect(Array.from(v.data)).toEqual([expect.closeTo(0, 6), expect.closeTo(0, 6)]);
  });

  it('averages the inner maps at x + N(0, σ²): for f = x², E|2(x + ε)| is computed by hand', async () => {
    // With x = 0 the map is |2ε|; E|ε| = σ·√(2/π). 4000 samples put the mean within ~2% of that.
    const model = functionModel(
      { f: (x) => x[0] * x[0], grad: (x) => Float32Array.of(2 * x[0]) },
      [1, 1, 1, 2],
    );
    const smooth = noiseTunnel(gradient, 'smoothgrad');
    const x = input(0, 10);
    const map = await smooth.attribute(
      { model, input: x, target: 0, classes: 1 },
      resolveOptions(smooth, { samples: 4000, noise: 0.1 }),
    );
    const sigma = 0.1 * 10;
    expect(map.data[0]).toBeGreaterThan(2 * sigma * Math.sqrt(2 / Math.PI) * 0.95);
    expect(map.data[0]).toBeLessThan(2 * sigma * Math.sqrt(2 / Math.PI) * 1.05);
  });

  it('with zero noise equals the wrapped method, and the same seed gives the same map', async () => {
    const smoothIg = noiseTunnel(integratedGradients, 'smoothgrad');
    const a = await smoothIg.attribute(
      { model: captumModel(), input: input(3, 1), target: 0, classes: 1 },
      resolveOptions(smoothIg, { samples: 3, noise: 0 }),
    );
    expect(Array.from(a.data)).toEqual([expect.closeTo(1.5, 6), expect.closeTo(-0.5, 6)]);
    const b1 = await smoothIg.attribute(
      { model: captumModel(), input: input(3, 1), target: 0, classes: 1 },
      resolveOptions(smoothIg, { samples: 3, seed: 4 }),
    );
    const b2 = await smoothIg.attribute(
      { model: captumModel(), input: input(3, 1), target: 0, classes: 1 },
      resolveOptions(smoothIg, { samples: 3, seed: 4 }),
    );
    expect(b2.data).toEqual(b1.data);
  });

  it('batches the noisy copies of single-gradient methods, and matches the one-at-a-time path', async () => {
    const quadratic = {
      f: (x: Float32Array) => x[0] * x[0] - x[1] * x[1] * x[1],
      grad: (x: Float32Array) => Float32Array.of(2 * x[0], -3 * x[1] * x[1]),
    };
    const batched = functionModel(quadratic, [1, 1, 1, 2], 8);
    const smooth = getMethod('smoothgrad');
    const options = resolveOptions(smooth, { samples: 20, seed: 9 });
    const a = await smooth.attribute({ model: batched, input: input(1, 2), target: 0, classes: 1 }, options);
    expect(batched.batches).toEqual([8, 8, 4]);
    // The same draws through the sequential path (a wrapper without fromGradient) give the same map.
    const { fromGradient: _, ...plain } = gradient;
    const sequential = noiseTunnel(plain, 'smoothgrad');
    const b = await sequential.attribute(
      { model: functionModel(quadratic, [1, 1, 1, 2], 8), input: input(1, 2), target: 0, classes: 1 },
      options,
    );
    expect(Array.from(a.data)).toEqual(Array.from(b.data).map((v) => expect.closeTo(v, 5)));
  });

  it('refuses to wrap a method that has its own samples option', () => {
    expect(() => noiseTunnel(expectedGradients, 'smoothgrad')).toThrow(/without its own samples/);
  });
});

describe('expected gradients', () => {
  it('for a linear model averages w ⊙ (x − x′) over references drawn evenly from black, white, blur and noise', async () => {
    // f = x1 − 2·x2. References: black (0), white (255), blur (σ = 5% of a 2-pixel side: the photo itself),
    // uniform noise (mean 127.5). So E[x′_i] = (0 + 255 + x_i + 127.5) / 4, and the map is w ⊙ (x − E[x′]).
    // Per-draw spread of x′ is about 100, so 4000 draws put the mean within about 1.6 (σ) of it.
    const model = functionModel(
      { f: (x) => x[0] - 2 * x[1], grad: () => Float32Array.of(1, -2) },
      [1, 1, 1, 2],
      500,
    );
    const x = input(100, 50);
    const options = resolveOptions(expectedGradients, { samples: 4000 });
    const map = await expectedGradients.attribute({ model, input: x, target: 0, classes: 1 }, options);
    const expected = (xi: number, w: number) => w * (xi - (0 + 255 + xi + 127.5) / 4);
    expect(Math.abs(map.data[0] - expected(100, 1))).toBeLessThan(5);
    expect(Math.abs(map.data[1] - expected(50, -2))).toBeLessThan(10);
    expect(model.calls).toBe(8);
    const again = await expectedGradients.attribute({ model, input: x, target: 0, classes: 1 }, options);
    expect(again.data).toEqual(map.data);
  });
});

describe('baselines match what preprocessing makes of the same photo', () => {
  it('black and white for a BGR model with uneven per-channel mean and std', () => {
    const spec = {
      inputName: 'x',
      layout: 'NHWC' as const,
      width: 2,
      height: 1,
      channelOrder: 'BGR' as const,
      mean: [0.1, 0.5, 0.9] as [number, number, number],
      std: [0.2, 0.4, 0.8] as [number, number, number],
      resize: 'squash' as const,
      cropFraction: 1,
      labels: [],
      outputs: 'logits' as const,
      task: 'classify' as const,
    };
    const input = { data: new Float32Array(6), dims: [1, 1, 2, 3] };
    for (const [type, value] of [
      ['black', 0],
      ['white', 255],
    ] as const) {
      const expected = toModelLayout(new Float32Array(6).fill(value), spec).data;
      expect(Array.from(baseline(type, input, spec, createRng(0)))).toEqual(Array.from(expected));
    }
    // By hand: tensor channel 0 of black is (0 − 0.1) / 0.2.
    expect(baseline('black', input, spec, createRng(0))[0]).toBeCloseTo(-0.5, 6);
  });
});
