import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The layer order of shared/DESIGN.md, lowest first. A module may import from its own layer or any layer
 * listed before it. Folders (or single files) of src/ are named by their first path segment without
 * extension, so `explain.ts` and a future `explain/` folder are the same layer.
 */
export const LAYERS: readonly (readonly string[])[] = [
  ['core'],
  ['models', 'engines', 'io'],
  ['methods', 'metrics', 'render'],
  ['explain'],
  ['audit', 'evaluate', 'queue'],
  ['cli', 'server'],
  // The package's entry points re-export everything below them.
  ['index', 'portable', 'browser'],
  // The browser app is bundled from web/src and sees the library only through its browser entry.
  ['web'],
];

/** One import statement: the importing file and the file it names, both relative to the repository root. */
export interface ImportEdge {
  from: string;
  to: string;
}

// `import … from '…'`, `export … from '…'`, `import '…'` and `import('…')`, type-only ones included: a type
// import ties the layers together as much as a value import does. Static forms must start a line, so an
// example inside a doc comment (` * import …`) is not read as an import. Comments inside the import list
// are skipped whole, so an apostrophe in one (`a, // the audit's`) does not hide the import.
const STATIC =
  /^\s*(?:import|export)\b(?:[^'";/]|\/\/[^\n]*(?![^\n])|\/\*(?:[^*]|\*(?!\/))*\*\/|\/(?![/*]))*?\bfrom\s*['"]([^'"]+)['"]/gm;
const BARE = /^\s*import\s*['"]([^'"]+)['"]/gm;
const DYNAMIC = /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

/** The module specifiers a TypeScript source imports or re-exports from. */
export function importSpecifiers(source: string): string[] {
  const found: string[] = [];
  for (const pattern of [STATIC, BARE, DYNAMIC]) {
    for (const match of source.matchAll(pattern)) found.push(match[1]);
  }
  return found;
}

function listTs(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listTs(path));
    else if (entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** The TypeScript files under `dirs`, repository-relative with '/' separators. */
export function sourceFiles(root: string, dirs: readonly string[]): string[] {
  return dirs.flatMap((dir) =>
    listTs(join(root, dir)).map((file) => relative(root, file).split(sep).join('/')),
  );
}

/** Every relative import edge of the TypeScript files under `dirs` (repository-relative, '/'-separated). */
export function importGraph(root: string, dirs: readonly string[]): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const from of sourceFiles(root, dirs)) {
    for (const spec of importSpecifiers(readFileSync(join(root, from), 'utf8'))) {
      if (!spec.startsWith('.')) continue;
      const to = posix.normalize(posix.join(posix.dirname(from), spec)).replace(/\.js$/, '.ts');
      edges.push({ from, to });
    }
  }
  return edges;
}

/** The layer name of a repository-relative path: `src/metrics/region.ts` → `metrics`, `web/src/x.ts` → `web`. */
export function layerOf(path: string): string | undefined {
  const parts = path.split('/');
  if (parts[0] === 'web') return 'web';
  if (parts[0] !== 'src' || parts.length < 2) return undefined;
  return parts[1].replace(/\.ts$/, '');
}

/**
 * Folders of one layer are independent of each other unless listed here: the model loaders open the engines
 * and read files through io's bounded reader, the sanity and stability metrics run methods, and `sightline
 * serve` starts the server. The entry points build on one another. A queue worker runs the audit's own
 * per-image code, and an evaluation's (src/queue builds on src/audit and src/evaluate).
 */
export const SIBLINGS: ReadonlySet<string> = new Set([
  'models → engines',
  'models → io',
  'metrics → methods',
  'index → portable',
  'browser → portable',
  'cli → server',
  'queue → audit',
  'queue → evaluate',
]);

/**
 * The browser app sees the library only through src/browser.ts; report.html's own script (web/src/report/)
 * sees only the contract between the page and the audit report that writes it.
 */
const REPORT_PAGE_CONTRACT = 'src/audit/report/page-data.ts';

/**
 * Pure functions over the model interface and typed arrays skip the loading layer: they see a model only
 * through core/model.ts and its capabilities, never an engine, a loader or a file.
 */
const PURE = new Set(['methods', 'metrics', 'render']);
const LOADING = new Set(['models', 'engines', 'io']);

function rank(layer: string | undefined): number {
  return LAYERS.findIndex((names) => layer !== undefined && names.includes(layer));
}

/** Why an import breaks the layer order, or undefined when it keeps it. */
export function violation(from: string, to: string): string | undefined {
  const fromLayer = layerOf(from);
  const toLayer = layerOf(to);
  const fromRank = rank(fromLayer);
  const toRank = rank(toLayer);
  if (fromRank < 0 || toRank < 0) return 'outside the known layers';
  if (fromLayer === 'web') {
    if (toLayer === 'web') return undefined;
    const entry = from.startsWith('web/src/report/') ? REPORT_PAGE_CONTRACT : 'src/browser.ts';
    return to === entry ? undefined : `web reaches past ${entry}`;
  }
  if (toRank > fromRank) return `${fromLayer} sits below ${toLayer}`;
  if (toRank === fromRank && fromLayer !== toLayer && !SIBLINGS.has(`${fromLayer} → ${toLayer}`)) {
    return `${fromLayer} and ${toLayer} are independent`;
  }
  if (PURE.has(fromLayer!) && LOADING.has(toLayer!)) return `${fromLayer} must not know ${toLayer}`;
  return undefined;
}

/** The edges that break the layer order, written `from → to`, sorted and without repeats. */
export function backEdges(edges: readonly ImportEdge[]): string[] {
  const bad = new Set<string>();
  for (const { from, to } of edges) if (violation(from, to)) bad.add(`${from} → ${to}`);
  return [...bad].sort();
}

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
