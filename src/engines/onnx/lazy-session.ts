/**
 * A session that loads its graph on its first run. The models withWeights makes for the sanity check's steps
 * are asked for gradients, which run in their gradient graph's own session, and seldom for plain scores, so
 * their forward graph is loaded only when something runs it: one ONNX Runtime load and one copy of the
 * model's bytes less per step (about a gradient pass of MobileNetV2, scripts/bench-sanity.mjs). Names and
 * metadata are those of a loaded session of a graph with the same inputs and outputs.
 */
import type * as ort from '#ort';

type Session = ort.InferenceSession;

export class LazySession implements Session {
  private loading?: Promise<Session>;

  constructor(
    private readonly load: () => Promise<Session>,
    private readonly like: Session,
  ) {}

  get inputNames(): readonly string[] {
    return this.like.inputNames;
  }

  get outputNames(): readonly string[] {
    return this.like.outputNames;
  }

  get inputMetadata(): Session['inputMetadata'] {
    return this.like.inputMetadata;
  }

  get outputMetadata(): Session['outputMetadata'] {
    return this.like.outputMetadata;
  }

  run(
    feeds: ort.InferenceSession.FeedsType,
    options?: ort.InferenceSession.RunOptions,
  ): Promise<ort.InferenceSession.ReturnType>;
  run(
    feeds: ort.InferenceSession.FeedsType,
    fetches: ort.InferenceSession.FetchesType,
    options?: ort.InferenceSession.RunOptions,
  ): Promise<ort.InferenceSession.ReturnType>;
  async run(
    feeds: ort.InferenceSession.FeedsType,
    second?: ort.InferenceSession.FetchesType | ort.InferenceSession.RunOptions,
    options?: ort.InferenceSession.RunOptions,
  ): Promise<ort.InferenceSession.ReturnType> {
    const session = await this.session();
    // ONNX Runtime tells fetches from options by their contents, as the overloads above are told apart.
    return session.run(feeds, second as ort.InferenceSession.FetchesType, options);
  }

  async release(): Promise<void> {
    const loading = this.loading;
    this.loading = undefined;
    await (await loading?.catch(() => undefined))?.release();
  }

  // Profiling is not offered before the graph is loaded; nothing in Sightline asks for it.
  startProfiling(): void {}

  endProfiling(): void {}

  private session(): Promise<Session> {
    if (!this.loading) {
      const loading = this.load();
      // A failed load is tried again on the next run rather than remembered.
      loading.catch(() => {
        if (this.loading === loading) this.loading = undefined;
      });
      this.loading = loading;
    }
    return this.loading;
  }
}
