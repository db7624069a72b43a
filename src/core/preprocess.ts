import type { RgbImage } from './image.js';
import { imageDims, imageView } from './image-tensor.js';
import type { ModelSpec } from './model.js';
import { resampleRgbCrop, resampleSource } from './resample.js';
import type { Tensor } from './tensor.js';

/** The part of the original photo that the model input shows, in original pixels. */
export interface Geometry {
  readonly imageWidth: number;
  readonly imageHeight: number;
  readonly cropX: number;
  readonly cropY: number;
  readonly cropWidth: number;
  readonly cropHeight: number;
}

export interface Preprocessed {
  /** [1, 3, H, W] or [1, H, W, 3] as the spec says. */
  readonly tensor: Tensor;
  readonly geometry: Geometry;
}

export function inputGeometry(spec: ModelSpec, width: number, height: number): Geometry {
  if (spec.resize === 'squash') {
    return {
      imageWidth: width,
      imageHeight: height,
      cropX: 0,
      cropY: 0,
      cropWidth: width,
      cropHeight: height,
    };
  }
  // Keep the central part with the model's aspect ratio, cropFraction of the shorter extent.
  const aspect = spec.width / spec.height;
  let cw = width;
  let ch = cw / aspect;
  if (ch > height) {
    ch = height;
    cw = ch * aspect;
  }
  cw *= spec.cropFraction;
  ch *= spec.cropFraction;
  return {
    imageWidth: width,
    imageHeight: height,
    cropX: (width - cw) / 2,
    cropY: (height - ch) / 2,
    cropWidth: cw,
    cropHeight: ch,
  };
}

/** Photo → model input: crop and resize (antialiased), colour order, normalisation, layout. */
export function preprocess(image: RgbImage, spec: ModelSpec): Preprocessed {
  const geometry = inputGeometry(spec, image.width, image.height);
  const x0 = Math.round(geometry.cropX);
  const y0 = Math.round(geometry.cropY);
  const cw = Math.max(1, Math.round(geometry.cropWidth));
  const ch = Math.max(1, Math.round(geometry.cropHeight));
  const resized = resampleRgbCrop(image.data, image.width, x0, y0, cw, ch, spec.width, spec.height);
  return { tensor: toModelLayout(resized, spec), geometry };
}

/** Planar RGB in 0..255 at the model's size → the model's normalised tensor with a batch axis of 1. */
export function toModelLayout(planes: Float32Array, spec: ModelSpec): Tensor {
  const dims = imageDims(spec.layout, 3, spec.height, spec.width);
  const { plane, channelStride: cs, pixelStride: ps } = imageView(dims, spec.layout);
  const out = new Float32Array(3 * plane);
  for (let c = 0; c < 3; c++) {
    const srcC = spec.channelOrder === 'RGB' ? c : 2 - c;
    const mean = spec.mean[c];
    const std = spec.std[c];
    for (let i = 0; i < plane; i++) out[c * cs + i * ps] = (planes[srcC * plane + i] / 255 - mean) / std;
  }
  return { data: out, dims };
}

/**
 * A map at the model's input resolution → the original photo's size, through the inverse of the crop and
 * resize, so overlays line up with the photo the user gave. Pixels outside the crop get `outside`.
 */
export function mapToImage(
  map: Float32Array,
  mapWidth: number,
  mapHeight: number,
  g: Geometry,
  outside = 0,
): Float32Array {
  const cw = Math.max(1, Math.round(g.cropWidth));
  const ch = Math.max(1, Math.round(g.cropHeight));
  const source = {
    data: map,
    offset: 0,
    channelStride: mapWidth * mapHeight,
    rowStride: mapWidth,
    pixelStride: 1,
  };
  if (cw === g.imageWidth && ch === g.imageHeight)
    return resampleSource(source, 1, mapWidth, mapHeight, cw, ch);
  // Written straight into the crop's place in the photo-sized map: no crop-sized copy in between.
  // A new array is already zeros: filling 48 megapixels again would cost a fifth of the mapping.
  const out = new Float32Array(g.imageWidth * g.imageHeight);
  if (outside !== 0) out.fill(outside);
  const offset = Math.round(g.cropY) * g.imageWidth + Math.round(g.cropX);
  const target = { data: out, offset, channelStride: out.length, rowStride: g.imageWidth };
  return resampleSource(source, 1, mapWidth, mapHeight, cw, ch, target);
}
