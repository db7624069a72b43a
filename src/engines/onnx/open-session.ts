// How OnnxModel gets its ONNX Runtime sessions: in this thread (the default, and the browser's, whose engine
// already runs in a worker), or through an opener such as session-thread.ts's, which keeps them on a thread of
// their own in Node.
import * as ort from '#ort';

/** What OnnxModel uses of a session; ort.InferenceSession is one, session-thread.ts's proxy another. */
export type OrtSession = Pick<
  ort.InferenceSession,
  'inputNames' | 'outputNames' | 'inputMetadata' | 'outputMetadata' | 'release'
> & {
  run(
    feeds: ort.InferenceSession.FeedsType,
    fetches: readonly string[],
  ): Promise<ort.InferenceSession.ReturnType>;
};

export type SessionOpener = (
  bytes: Uint8Array,
  options: ort.InferenceSession.SessionOptions,
) => Promise<OrtSession>;

export const openInThisThread: SessionOpener = (bytes, options) =>
  ort.InferenceSession.create(bytes, stopSpinningAfterRuns(options));

/**
 * ORT's pool threads spin while they wait for work, and by default go on spinning after a run has ended, for
 * tens of milliseconds: a model's sessions take turns (its forward pass, its gradient graph, a batch size's
 * own), and the next one then shares the cores with the last one's spinning thread. Measured on 2 cores
 * (MobileNetV2 224², 2 threads, a batch-1 forward pass right after another session's batch-16 run): 3.5–4.0 ms
 * spinning as by default, 1.9 ms with the pool told to stop when a run ends (session.force_spinning_stop), and
 * no slower when nothing came before (1.83 ms both ways); spinning kept within a run, since turning it off
 * costs 40% there (2.6–2.8 ms). In scripts/bench-gradients.mjs: Grad-CAM 4.0 → 2.4 ms an image, the forward
 * pass 3.7–3.9 → 2.1–2.3 ms, the vanilla gradient at batch 1 14.5 → 9.7 ms. A caller's own setting wins.
 */
export function stopSpinningAfterRuns(
  options: ort.InferenceSession.SessionOptions,
): ort.InferenceSession.SessionOptions {
  const extra = (options.extra ?? {}) as { session?: Record<string, unknown> };
  return {
    ...options,
    extra: { ...extra, session: { force_spinning_stop: '1', ...extra.session } },
  };
}

export interface OnnxIo {
  readonly inputs: readonly { name: string; dims: readonly (number | string)[] }[];
  readonly outputs: readonly { name: string; dims: readonly (number | string)[] }[];
}

/** A session's inputs and outputs with their dims (names for symbolic ones). */
export function describeIo(session: OrtSession): OnnxIo {
  const meta = (names: readonly string[], metadata: readonly ort.InferenceSession.ValueMetadata[]) =>
    names.map((name, i) => {
      const m = metadata[i];
      return { name, dims: m?.isTensor ? [...m.shape] : [] };
    });
  return {
    inputs: meta(session.inputNames, session.inputMetadata),
    outputs: meta(session.outputNames, session.outputMetadata),
  };
}
