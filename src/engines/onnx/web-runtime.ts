// onnxruntime-web's settings, which only the browser entry exports: where its wasm files are served from and
// how many threads it may use (threads need a cross-origin isolated page; `sightline serve` makes it one).
import * as ort from '#ort';

export interface WebRuntimeOptions {
  /** URL prefix of the directory holding onnxruntime-web's ort-wasm-*.{mjs,wasm} files. */
  readonly wasmPaths: string;
  /** Threads for one operator; 1 when the page is not cross-origin isolated (no SharedArrayBuffer). */
  readonly threads: number;
}

export function configureWebRuntime(options: WebRuntimeOptions): void {
  ort.env.wasm.wasmPaths = options.wasmPaths;
  ort.env.wasm.numThreads = Math.max(1, Math.floor(options.threads));
  // We already run inside our own worker; ORT's proxy worker would add a second hop for every tensor.
  ort.env.wasm.proxy = false;
}
