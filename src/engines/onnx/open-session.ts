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
