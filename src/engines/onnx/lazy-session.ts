/**
 * A session that loads its graph on its first run. The models withWeights makes for the sanity check's steps
 * are asked for gradients, which run in their gradient graph's own session, and seldom for plain scores, so
 * their forward graph is loaded only when something runs it: one ONNX Runtime load and one copy of the
 * model's bytes less per step (about a gradient pass of MobileNetV2, scripts/bench-sanity.mjs). Names and
 * metadata are those of a loaded session of a graph with the same inputs and outputs.
 */
import type * as ort from '#ort';
import type { OrtSession } from './open-session.js';

type Session = OrtSession;

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

  async run(
    feeds: ort.InferenceSession.FeedsType,
    fetches: readonly string[],
  ): Promise<ort.InferenceSession.ReturnType> {
    return (await this.session()).run(feeds, fetches);
  }

  async release(): Promise<void> {
    const loading = this.loading;
    this.loading = undefined;
    await (await loading?.catch(() => undefined))?.release();
  }

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
