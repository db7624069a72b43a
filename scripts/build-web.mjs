// Builds the browser app into dist/web/: the page and the engine worker bundled with esbuild (the library
// compiled for the browser, onnxruntime-web through the "browser" condition of "#ort"), plus the page's
// static files and onnxruntime-web's wasm runtime, which it loads at run time from ./ort/. Also bundles
// report.html's script and style sheet (web/src/report/) into dist/report/, which the audit report inlines.
import { copyFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'web');
const ortDist = join(dirname(createRequire(import.meta.url).resolve('onnxruntime-web')), '');
// ort.min.mjs (not the default bundle) loads its wasm glue from env.wasm.wasmPaths, so the threads' workers
// start from that small file rather than from our whole worker bundle.
const ORT_FILES = ['ort-wasm-simd-threaded.jsep.mjs', 'ort-wasm-simd-threaded.jsep.wasm'];

// report.html is one self-contained file with its script and style inline (src/audit/report/assets.ts reads
// these): no comments, so nothing in them can close the <script> or <style> element or look like a URL.
const report = join(root, 'dist', 'report');
const reportAssets = { script: '', style: '' };
await mkdir(report, { recursive: true });
for (const [entry, name] of [
  ['web/src/report/report.ts', 'report.js'],
  ['web/src/report/report.css', 'report.css'],
]) {
  const result = await build({
    absWorkingDir: root,
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: ['chrome110', 'firefox115', 'safari16.4'],
    minify: true,
    legalComments: 'none',
    charset: 'utf8',
    logLevel: 'warning',
  });
  const text = result.outputFiles[0].text.trim();
  if (/<\/|<!--|\/\//.test(text)) throw new Error(`${entry} bundles to text holding '</', '<!--' or '//'`);
  await writeFile(join(report, name), text);
  reportAssets[name === 'report.js' ? 'script' : 'style'] = text;
}

await rm(out, { recursive: true, force: true });
await mkdir(join(out, 'ort'), { recursive: true });
await build({
  absWorkingDir: root,
  entryPoints: { app: 'web/src/main.ts', worker: 'web/src/worker.ts' },
  outdir: out,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['chrome110', 'firefox115', 'safari16.4'],
  conditions: ['onnxruntime-web-use-extern-wasm'],
  plugins: [inlineReportAssets(reportAssets)],
  // csv-parse's Node build (the regions CSV parser) reads Buffer as it loads; its browser build brings its own.
  alias: { 'csv-parse/sync': 'csv-parse/browser/esm/sync' },
  minify: true,
  sourcemap: true,
  legalComments: 'linked',
  logLevel: 'warning',
});
for (const file of ['index.html', 'style.css']) await copyFile(join(root, 'web', file), join(out, file));
for (const file of ORT_FILES) await copyFile(join(ortDist, file), join(out, 'ort', file));

/**
 * The web app renders report.html with the library's renderer (src/audit/report/), whose assets.ts reads the
 * report's script and style sheet from dist/report/ with node:fs; in the bundle that module is replaced by the
 * same two texts, built just above, so the page's reports equal the CLI's and no Node module reaches the browser.
 */
function inlineReportAssets(assets) {
  return {
    name: 'inline-report-assets',
    setup(builder) {
      builder.onResolve({ filter: /^\.\/assets\.js$/ }, (args) =>
        /[\\/]src[\\/]audit[\\/]report$/.test(args.resolveDir)
          ? { path: 'report-assets', namespace: 'inline-report-assets' }
          : undefined,
      );
      builder.onLoad({ filter: /.*/, namespace: 'inline-report-assets' }, () => ({
        contents: `export function reportAssets() { return Promise.resolve(${JSON.stringify(assets)}); }`,
        loader: 'js',
      }));
    },
  };
}
