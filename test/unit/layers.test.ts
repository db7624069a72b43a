import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  backEdges,
  importGraph,
  importSpecifiers,
  REPO_ROOT,
  sourceFiles,
  violation,
} from '../helpers/layers.js';

describe('imports point down the layers (shared/DESIGN.md, README "Layers")', () => {
  const edges = importGraph(REPO_ROOT, ['src', 'web/src']);

  it('reads the import graph of src/ and web/src/', () => {
    // A sanity floor: an empty graph (a broken reader) would pass every other check here.
    expect(edges.length).toBeGreaterThan(500);
    expect(edges).toContainEqual({ from: 'src/explain.ts', to: 'src/methods/registry.ts' });
    expect(edges.some(({ from, to }) => from.startsWith('web/src/') && to === 'src/browser.ts')).toBe(true);
  });

  it('no module imports from a layer above its own, a sibling it must not know, or (web) past the browser entry', () => {
    expect(backEdges(edges)).toEqual([]);
  });
});

describe('one job per file', () => {
  it('no file in src/ or web/src/ is over 500 lines', () => {
    const files = sourceFiles(REPO_ROOT, ['src', 'web/src']);
    expect(files.length).toBeGreaterThan(100);
    const long = files.filter((file) => {
      const lines = readFileSync(join(REPO_ROOT, file), 'utf8').split('\n').length - 1;
      return lines > 500;
    });
    expect(long).toEqual([]);
  });
});

describe('the layer check itself', () => {
  it('reads every import form, type-only and multi-line ones included, and not doc-comment examples', () => {
    const source = [
      "import { a } from './a.js';",
      "import type { B } from '../b.js';",
      'import {',
      '  c,',
      '  d,',
      "} from './cd.js';",
      'import {',
      "  i, // the audit's own",
      "  /* j's */ j,",
      "} from './ij.js';",
      "export { e } from './e.js';",
      "export * from './f.js';",
      "import './side-effect.js';",
      "const g = await import('./g.js');",
      '/**',
      " * import { h } from './h.js';",
      ' */',
    ].join('\n');
    expect(importSpecifiers(source).sort()).toEqual(
      ['./a.js', '../b.js', './cd.js', './ij.js', './e.js', './f.js', './side-effect.js', './g.js'].sort(),
    );
  });

  it('flags every back-edge issue 12 found on main at d9ac92d', () => {
    const found = [
      { from: 'src/metrics/region.ts', to: 'src/audit/types.ts' },
      { from: 'src/metrics/sanity.ts', to: 'src/engines/onnx/session.ts' },
      { from: 'src/metrics/sanity.ts', to: 'src/explain.ts' },
      { from: 'src/evaluate/summary.ts', to: 'src/audit/report/html.ts' },
      { from: 'src/metrics/deletion-insertion.ts', to: 'src/render/normalize.ts' },
    ];
    expect(backEdges(found)).toHaveLength(found.length);
  });

  it('names each kind of back-edge, and lets downward and sibling-allowed imports through', () => {
    expect(violation('src/metrics/region.ts', 'src/audit/types.ts')).toBe('metrics sits below audit');
    expect(violation('src/core/image.ts', 'src/explain.ts')).toBe('core sits below explain');
    expect(violation('src/metrics/sanity.ts', 'src/engines/onnx/session.ts')).toBe(
      'metrics must not know engines',
    );
    expect(violation('src/evaluate/summary.ts', 'src/audit/report/html.ts')).toBe(
      'evaluate and audit are independent',
    );
    expect(violation('src/render/png.ts', 'src/io/decode.ts')).toBe('render must not know io');
    expect(violation('web/src/main.ts', 'src/core/image.ts')).toBe('web reaches past src/browser.ts');
    expect(violation('src/lonely.ts', 'src/core/image.ts')).toBe('outside the known layers');
    expect(violation('src/audit/audit.ts', 'src/explain.ts')).toBeUndefined();
    expect(violation('src/models/open.ts', 'src/engines/onnx/session.ts')).toBeUndefined();
    expect(violation('src/explain/prepare.ts', 'src/explain.ts')).toBeUndefined();
    expect(violation('web/src/main.ts', 'src/browser.ts')).toBeUndefined();
    expect(violation('web/src/report/report.ts', 'src/audit/report/page-data.ts')).toBeUndefined();
    expect(violation('web/src/report/report.ts', 'src/audit/types.ts')).toBe(
      'web reaches past src/audit/report/page-data.ts',
    );
    expect(violation('src/models/load.ts', 'src/io/read-file.ts')).toBeUndefined();
  });

  describe('on a synthetic source tree with one back-edge', () => {
    const root = mkdtempSync(join(tmpdir(), 'sightline-layers-'));
    afterAll(() => rmSync(root, { recursive: true, force: true }));
    const write = (path: string, text: string) => {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text);
    };

    it('lists it as `from → to`, and only it', () => {
      write('src/core/shape.ts', "import type { Row } from '../audit/types.js';\nexport type Shape = Row;\n");
      write(
        'src/audit/types.ts',
        "import type { Shape } from '../core/shape.js';\nexport type Row = Shape;\n",
      );
      write('src/audit/read.ts', "export * from './types.js';\n");
      expect(backEdges(importGraph(root, ['src']))).toEqual(['src/core/shape.ts → src/audit/types.ts']);
    });
  });
});
