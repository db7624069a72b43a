/** Long work reports how far it is; the CLI turns this into a progress bar, the web app into a meter. */
export interface Progress {
  readonly done: number;
  readonly total: number;
  /** What is being counted, e.g. "model passes". */
  readonly unit: string;
}

export type ProgressCallback = (progress: Progress) => void;
