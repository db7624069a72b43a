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
  ort.InferenceSession.create(bytes, options);

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
