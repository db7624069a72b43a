// Builds the browser app into dist/web/: the page and the engine worker bundled with esbuild (the library
// compiled for the browser, onnxruntime-web through the "browser" condition of "#ort"), plus the page's
// static files and onnxruntime-web's wasm runtime, which it loads at run time from ./ort/.
import { copyFile, mkdir, rm } from 'node:fs/promises';
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
  minify: true,
  sourcemap: true,
  legalComments: 'linked',
  logLevel: 'warning',
});
for (const file of ['index.html', 'style.css']) await copyFile(join(root, 'web', file), join(out, file));
for (const file of ORT_FILES) await copyFile(join(ortDist, file), join(out, 'ort', file));
