import { SightlineError } from './errors.js';
import type { RgbImage } from './image.js';
import { imageDims, imageView } from './image-tensor.js';
import type { ModelSpec, ResizeFirst } from './model.js';
import { resampleRgbCrop, resampleRgbWindow, resampleSource } from './resample.js';
import type { Tensor } from './tensor.js';

/** The part of the original photo that the model input shows, in original pixels. */
export interface Geometry {
  readonly imageWidth: number;
  readonly imageHeight: number;
  readonly cropX: number;
  readonly cropY: number;
  readonly cropWidth: number;
  readonly cropHeight: number;
  /**
   * Present when the spec resizes first (spec.resizeFirst): the whole photo became width × height and the
   * input is its part from (left, top); the crop above is that part in the photo's pixels.
   */
  readonly resized?: {
    readonly width: number;
    readonly height: number;
    readonly left: number;
    readonly top: number;
  };
}

export interface Preprocessed {
  /** [1, 3, H, W] or [1, H, W, 3] as the spec says. */
  readonly tensor: Tensor;
  readonly geometry: Geometry;
}

export function inputGeometry(spec: ModelSpec, width: number, height: number): Geometry {
  if (spec.resizeFirst) return resizeFirstGeometry(spec, spec.resizeFirst, width, height);
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

/**
 * Resize the whole photo, then cut the input from the centre of the result. An input larger than the resized
 * photo would need padding, which transformers and torchvision add as black but this pipeline does not: refused.
 */
function resizeFirstGeometry(spec: ModelSpec, r: ResizeFirst, width: number, height: number): Geometry {
  let rw: number;
  let rh: number;
  if (r.kind === 'fixed') {
    rw = r.width;
    rh = r.height;
  } else if (width <= height) {
    // As transformers' get_resize_output_image_size and torchvision's Resize(int): int(size · long / short).
    rw = r.size;
    rh = Math.floor((r.size * height) / width);
  } else {
    rh = r.size;
    rw = Math.floor((r.size * width) / height);
  }
  if (spec.width > rw || spec.height > rh) {
    throw new SightlineError(
      'MODEL_SHAPE',
      `The model cuts ${spec.width} × ${spec.height} pixels from the photo resized to ${rw} × ${rh}, which is smaller; expected a resize at least as large as the input on each side.`,
      { width: spec.width, height: spec.height, resizedWidth: rw, resizedHeight: rh },
    );
  }
  const offset = (extra: number) => (r.offset === 'floor' ? Math.floor(extra / 2) : roundHalfEven(extra / 2));
  const left = offset(rw - spec.width);
  const top = offset(rh - spec.height);
  const sx = width / rw;
  const sy = height / rh;
  return {
    imageWidth: width,
    imageHeight: height,
    cropX: left * sx,
    cropY: top * sy,
    cropWidth: spec.width * sx,
    cropHeight: spec.height * sy,
    resized: { width: rw, height: rh, left, top },
  };
}

/** Python's round(): halves go to the even neighbour (torchvision's CenterCrop offset, int(round(x))). */
function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d !== 0.5) return Math.round(x);
  return f % 2 === 0 ? f : f + 1;
}

/** Photo → model input: crop and resize (antialiased), colour order, normalisation, layout. */
export function preprocess(image: RgbImage, spec: ModelSpec): Preprocessed {
  const geometry = inputGeometry(spec, image.width, image.height);
  const r = geometry.resized;
  if (r) {
    const window = { left: r.left, top: r.top, width: spec.width, height: spec.height };
    const planes = resampleRgbWindow(
      image.data,
      image.width,
      image.height,
      r.width,
      r.height,
      window,
      spec.resample,
    );
    return { tensor: toModelLayout(planes, spec), geometry };
  }
  const x0 = Math.round(geometry.cropX);
  const y0 = Math.round(geometry.cropY);
  const cw = Math.max(1, Math.round(geometry.cropWidth));
  const ch = Math.max(1, Math.round(geometry.cropHeight));
  const resized = resampleRgbCrop(
    image.data,
    image.width,
    x0,
    y0,
    cw,
    ch,
    spec.width,
    spec.height,
    spec.resample,
  );
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
