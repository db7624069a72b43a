/** A decoded photo: height × width × 3 RGB bytes, row-major, no alpha (flattened at decode time). */
export interface RgbImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/** RGBA bytes, height × width × 4, as canvases and PNG encoders want them. */
export interface RgbaImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8ClampedArray;
}
