import { type Box, clipBox } from './detection/boxes.js';
import { SightlineError } from './errors.js';
import type { RgbImage } from './image.js';
import { imageDims, imageView } from './image-tensor.js';
import type { ModelSpec, ResizeFirst } from './model.js';
import { type ResampleTarget, resampleRgbCrop, resampleRgbWindow, resampleSource } from './resample.js';
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
  /**
   * Present for resize 'letterbox': the whole photo, resized keeping its aspect to width × height, lies at
   * (left, top) of the input and gray padding fills the rest; the crop above is then the whole photo.
   */
  readonly letterbox?: {
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
  if (spec.resize === 'letterbox') return letterboxGeometry(spec, width, height);
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

/**
 * Ultralytics' LetterBox (auto off, scaleup on, centred): r = min(input / photo) per side, the photo becomes
 * round(w·r) × round(h·r) with Python's round, and the padding before it is round(d / 2 − 0.1) for a total
 * padding d, i.e. floor(d / 2): an odd pixel of padding goes after the photo.
 */
function letterboxGeometry(spec: ModelSpec, width: number, height: number): Geometry {
  const r = Math.min(spec.width / width, spec.height / height);
  const w = Math.min(spec.width, Math.max(1, roundHalfEven(width * r)));
  const h = Math.min(spec.height, Math.max(1, roundHalfEven(height * r)));
  return {
    imageWidth: width,
    imageHeight: height,
    cropX: 0,
    cropY: 0,
    cropWidth: width,
    cropHeight: height,
    letterbox: {
      width: w,
      height: h,
      left: Math.floor((spec.width - w) / 2),
      top: Math.floor((spec.height - h) / 2),
    },
  };
}

/** Ultralytics' letterbox padding, 114 of 255 (YOLOv5 onwards). */
export const LETTERBOX_FILL = 114;

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
  if (geometry.letterbox)
    return { tensor: toModelLayout(letterboxPlanes(image, spec, geometry.letterbox), spec), geometry };
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

/** The photo resized into its window of gray input planes (planar RGB, 0..255). */
function letterboxPlanes(
  image: RgbImage,
  spec: ModelSpec,
  lb: NonNullable<Geometry['letterbox']>,
): Float32Array {
  const plane = spec.width * spec.height;
  const planes = new Float32Array(3 * plane).fill(LETTERBOX_FILL);
  const source = {
    data: image.data,
    offset: 0,
    channelStride: 1,
    rowStride: image.width * 3,
    pixelStride: 3,
  };
  const target: ResampleTarget = {
    data: planes,
    offset: lb.top * spec.width + lb.left,
    channelStride: plane,
    rowStride: spec.width,
  };
  resampleSource(source, 3, image.width, image.height, lb.width, lb.height, target, spec.resample);
  // Bicubic's negative lobes can leave 0..255; PIL's 8-bit resize clamps (resampleSource does not, into a window).
  if (spec.resample === 'bicubic')
    for (let i = 0; i < planes.length; i++) planes[i] = Math.min(255, Math.max(0, planes[i]));
  return planes;
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
  if (g.letterbox) {
    // The photo's window of the map, resized to the photo; the padding has no photo to map onto.
    const { left, top, width, height } = g.letterbox;
    const window = {
      data: map,
      offset: top * mapWidth + left,
      channelStride: map.length,
      rowStride: mapWidth,
      pixelStride: 1,
    };
    return resampleSource(window, 1, width, height, g.imageWidth, g.imageHeight);
  }
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

/**
 * The affine map from model-input pixels to photo pixels, photo = offset + input · scale per axis, as
 * preprocess placed the photo: the letterbox window, the resize-then-crop window, or the (rounded) crop.
 * Ultralytics' scale_boxes divides by the ratio r instead of the window's own scale (round(w·r) / w); the two
 * differ by under half an input pixel across the whole photo, and this one inverts preprocess exactly.
 */
export function inputToImage(
  g: Geometry,
  inputWidth: number,
  inputHeight: number,
): { readonly x0: number; readonly y0: number; readonly sx: number; readonly sy: number } {
  if (g.letterbox) {
    const sx = g.imageWidth / g.letterbox.width;
    const sy = g.imageHeight / g.letterbox.height;
    return { x0: -g.letterbox.left * sx, y0: -g.letterbox.top * sy, sx, sy };
  }
  if (g.resized)
    return { x0: g.cropX, y0: g.cropY, sx: g.cropWidth / inputWidth, sy: g.cropHeight / inputHeight };
  return {
    x0: Math.round(g.cropX),
    y0: Math.round(g.cropY),
    sx: Math.max(1, Math.round(g.cropWidth)) / inputWidth,
    sy: Math.max(1, Math.round(g.cropHeight)) / inputHeight,
  };
}

/** A box (xyxy) in model-input pixels → photo pixels, clipped to the photo. */
export function boxToImage(box: Box, g: Geometry, inputWidth: number, inputHeight: number): Box {
  const { x0, y0, sx, sy } = inputToImage(g, inputWidth, inputHeight);
  const mapped: Box = [x0 + box[0] * sx, y0 + box[1] * sy, x0 + box[2] * sx, y0 + box[3] * sy];
  return clipBox(mapped, g.imageWidth, g.imageHeight);
}

/** A box (xyxy) in photo pixels → model-input pixels (ground truth onto the input), clipped to the input. */
export function boxToInput(box: Box, g: Geometry, inputWidth: number, inputHeight: number): Box {
  const { x0, y0, sx, sy } = inputToImage(g, inputWidth, inputHeight);
  const mapped: Box = [(box[0] - x0) / sx, (box[1] - y0) / sy, (box[2] - x0) / sx, (box[3] - y0) / sy];
  return clipBox(mapped, inputWidth, inputHeight);
}
