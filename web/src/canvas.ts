// Pixels onto a canvas: the one place the page turns RGB or RGBA bytes into an ImageData.

export function putRgb(
  canvas: HTMLCanvasElement,
  width: number,
  height: number,
  data: Uint8Array | Uint8ClampedArray,
  channels: 3 | 4,
): void {
  canvas.width = width;
  canvas.height = height;
  const pixels = new ImageData(width, height);
  if (channels === 4) pixels.data.set(data);
  else {
    for (let p = 0, q = 0; q < data.length; p += 4, q += 3) {
      pixels.data[p] = data[q];
      pixels.data[p + 1] = data[q + 1];
      pixels.data[p + 2] = data[q + 2];
      pixels.data[p + 3] = 255;
    }
  }
  canvas.getContext('2d')!.putImageData(pixels, 0, 0);
}
