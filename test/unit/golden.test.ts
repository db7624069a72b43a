/**
 * Golden fixtures (test/fixtures/golden, written by scripts/golden/make_fixtures.py): tiny torch graphs and
 * small networks exported to ONNX, with float64 PyTorch autograd outputs and input gradients of
 * Σ seed ⊙ output. ONNX Runtime must reproduce the outputs, and the graph from our autodiff transform must
 * reproduce the gradients: max |ours − golden| ≤ 1e-4 · max |golden| + 1e-8 (tolerances live in each JSON).
 *
 * An op without a gradient rule fails its fixture, naming the op: every fixture must pass.
 */
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  autodiff,
  checkForward,
  checkGradient,
  formatComparison,
  loadCase,
  readMeta,
} from '../../scripts/golden/check.js';

const DIR = fileURLToPath(new URL('../fixtures/golden/', import.meta.url));
const KINDS = ['onnx', 'json', 'input.npy', 'seed.npy', 'output.npy', 'grad.npy'];
const names = readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .map((f) => f.slice(0, -'.json'.length))
  .sort();

const report: string[] = [];

describe('golden fixtures: files', () => {
  it('holds the whole set, each with all six files and consistent shapes', async () => {
    expect(names.length).toBeGreaterThanOrEqual(80);
    for (const name of names) {
      for (const kind of KINDS) expect(existsSync(`${DIR}${name}.${kind}`), `${name}.${kind}`).toBe(true);
      const c = await loadCase(DIR, name);
      expect(c.input.shape, `${name} input`).toEqual(c.meta.input.shape);
      expect(c.seed.shape, `${name} seed`).toEqual(c.meta.output.shape);
      expect(c.output.shape, `${name} output`).toEqual(c.meta.output.shape);
      expect(c.grad.shape, `${name} grad`).toEqual(c.meta.input.shape);
      // The absolute floor must never be what passes a fixture: golden gradients are far above it.
      const scale = c.grad.data.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      expect(scale, `${name} max |grad|`).toBeGreaterThan(1e3 * c.meta.tolerances.grad.abs);
    }
  });
});

describe('golden fixtures: ONNX Runtime forward matches PyTorch', () => {
  it.each(names)('%s', async (name) => {
    const c = await loadCase(DIR, name);
    const forward = await checkForward(c);
    expect(forward.pass, `${name} output: ${formatComparison(forward)}`).toBe(true);
  });
});

describe('golden fixtures: autodiff input gradient matches PyTorch autograd', () => {
  afterAll(() => {
    if (report.length > 0) console.log(`golden gradients (${report.length} fixtures):\n${report.join('\n')}`);
  });

  for (const name of names) {
    it(name, async () => {
      const c = await loadCase(DIR, name);
      let result: Awaited<ReturnType<typeof checkGradient>>;
      try {
        result = await checkGradient(c, autodiff);
      } catch (error) {
        const e = error as { code?: string; details?: { op?: string }; message?: string };
        report.push(`${name.padEnd(28)} ${e.code ?? 'ERROR'} ${e.details?.op ?? ''}`);
        if (e.code === 'UNSUPPORTED_OP') {
          throw new Error(`${name}: no gradient rule for op '${e.details?.op}': ${e.message}`, {
            cause: error,
          });
        }
        throw error;
      }
      const meta = await readMeta(DIR, name);
      report.push(
        `${name.padEnd(28)} ${result.pass ? 'ok  ' : 'FAIL'} grad ${formatComparison(result)}; float32 torch ${meta.torch_float32?.grad_rel_error.toExponential(1)}`,
      );
      expect(
        result.output.pass,
        `${name} output of the gradient graph: ${formatComparison(result.output)}`,
      ).toBe(true);
      expect(result.pass, `${name} input gradient: ${formatComparison(result)}`).toBe(true);
    });
  }
});
