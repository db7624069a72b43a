// onnxruntime-web's JSEP build (the one this app loads) wraps its run calls, once WebGPU or WebNN is in use,
// so that a run started while another is in flight, in any session, fails with "Session already started"
// (ort-wasm-simd-threaded.jsep.mjs: one `$c` for the whole module). The worker serves several callers at once
// (a map in the main panel while a folder audit runs), so every session it opens goes through this queue:
// session creation, runs and releases take turns, and the second caller waits rather than failing. On plain
// WebAssembly (headless Chromium in the tests) calls would not collide; the queue costs nothing there.
import { type OrtSession, openInThisThread, type SessionOpener } from '../../src/browser.js';

let last: Promise<unknown> = Promise.resolve();

/** Runs `call` after every call queued before it has settled. */
function inTurn<T>(call: () => Promise<T>): Promise<T> {
  const next = last.then(call, call);
  last = next.catch(() => undefined);
  return next;
}

export const openInTurn: SessionOpener = async (bytes, options) => {
  const session = await inTurn(() => openInThisThread(bytes, options));
  const taking: OrtSession = {
    get inputNames() {
      return session.inputNames;
    },
    get outputNames() {
      return session.outputNames;
    },
    get inputMetadata() {
      return session.inputMetadata;
    },
    get outputMetadata() {
      return session.outputMetadata;
    },
    run: (feeds, fetches) => inTurn(() => session.run(feeds, fetches)),
    release: () => inTurn(() => session.release()),
  };
  return taking;
};
