/** A saliency map: one value per pixel, row-major height × width. */
export interface AttributionMap {
  readonly width: number;
  readonly height: number;
  readonly data: Float32Array;
  /** True when the sign carries meaning (evidence for vs against the class); false for importance-only maps. */
  readonly signed: boolean;
  /** Facts a method reports beside the map, e.g. integrated gradients' completeness delta. */
  readonly details?: Readonly<Record<string, number>>;
}

/** The class a map explains. */
export interface Target {
  readonly index: number;
  readonly label: string;
}
