// An audited photo's two pictures for report.html, drawn in the engine worker as the CLI draws them
// (src/audit/row-pictures.ts, which needs sharp): the map over the photo at most OVERLAY_SIDE pixels wide or
// high, and a thumbnail inside THUMBNAIL_SIDE, both WebP at quality 0.75. The colouring is the library's
// (renderOverlay); the browser's canvas scales the photo and encodes the WebP. The CLI's overlay carries a
// legend bar under the photo; here the report's detail names the method and class instead.
import { type AttributionMap, type RgbImage, renderOverlay, resamplePlanes } from '../../src/browser.js';

/** As row-pictures.ts: the detail dialog's width, and twice the table's 64 CSS pixels. */
const OVERLAY_SIDE = 640;
const THUMBNAIL_SIDE = 120;
const QUALITY = 0.75;

export interface AuditPictures {
  readonly overlay: Uint8Array;
  readonly thumbnail: Uint8Array;
}

export async function auditPictures(image: RgbImage, map: AttributionMap): Promise<AuditPictures> {
  const photo = canvasOf(image);
  const scale = Math.min(1, OVERLAY_SIDE / Math.max(image.width, image.height));
  const small = scaled(
    photo,
    Math.max(1, Math.round(image.width * scale)),
    Math.max(1, Math.round(image.height * scale)),
  );
  const values =
    scale < 1 ? resamplePlanes(map.data, 1, image.width, image.height, small.width, small.height) : map.data;
  const rgba = renderOverlay(rgbOf(small), values, { mode: map.signed ? 'positive' : 'absolute' });
  const overlay = new OffscreenCanvas(rgba.width, rgba.height);
  overlay.getContext('2d')!.putImageData(new ImageData(new Uint8ClampedArray(rgba.data), rgba.width), 0, 0);
  const fit = Math.min(1, THUMBNAIL_SIDE / Math.max(image.width, image.height));
  const thumbnail = scaled(
    photo,
    Math.max(1, Math.round(image.width * fit)),
    Math.max(1, Math.round(image.height * fit)),
  );
  return { overlay: await webp(overlay), thumbnail: await webp(thumbnail) };
}

function canvasOf(image: RgbImage): OffscreenCanvas {
  const rgba = new Uint8ClampedArray(image.width * image.height * 4);
  for (let p = 0, q = 0; p < rgba.length; p += 4, q += 3) {
    rgba[p] = image.data[q];
    rgba[p + 1] = image.data[q + 1];
    rgba[p + 2] = image.data[q + 2];
    rgba[p + 3] = 255;
  }
  const canvas = new OffscreenCanvas(image.width, image.height);
  canvas.getContext('2d')!.putImageData(new ImageData(rgba, image.width), 0, 0);
  return canvas;
}

function scaled(source: OffscreenCanvas, width: number, height: number): OffscreenCanvas {
  if (width === source.width && height === source.height) return source;
  const canvas = new OffscreenCanvas(width, height);
  const context = canvas.getContext('2d')!;
  context.imageSmoothingQuality = 'high';
  context.drawImage(source, 0, 0, width, height);
  return canvas;
}

function rgbOf(canvas: OffscreenCanvas): RgbImage {
  const rgba = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
  const data = new Uint8Array(canvas.width * canvas.height * 3);
  for (let p = 0, q = 0; q < data.length; p += 4, q += 3) {
    data[q] = rgba[p];
    data[q + 1] = rgba[p + 1];
    data[q + 2] = rgba[p + 2];
  }
  return { width: canvas.width, height: canvas.height, data };
}

async function webp(canvas: OffscreenCanvas): Promise<Uint8Array> {
  const blob = await canvas.convertToBlob({ type: 'image/webp', quality: QUALITY });
  return new Uint8Array(await blob.arrayBuffer());
}
