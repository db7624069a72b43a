// The downloads: the picture with its legend (PNG), the raw map (.npy) and the details (JSON).
import { encodeNpy } from '../../src/browser.js';
import { ui } from './dom.js';
import { drawLegend, overlayOptions } from './overlay.js';
import { state } from './state.js';

/** Saves `blob` as the file `name` through the browser's download (an a[download] click). */
export function download(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  // The download has started by then; the URL would otherwise hold the file until the page closes.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function baseName(): string {
  return `${state.imageName}-${state.explained?.method ?? 'map'}`;
}

async function savePng(): Promise<void> {
  const image = state.image;
  const explained = state.explained;
  if (!image || !explained) return;
  const legend = document.createElement('canvas');
  await drawLegend(legend, image.width, explained, overlayOptions());
  const out = document.createElement('canvas');
  out.width = image.width;
  out.height = image.height + legend.height;
  const context = out.getContext('2d')!;
  context.drawImage(ui.overlay, 0, 0);
  context.drawImage(legend, 0, image.height);
  const blob = await new Promise<Blob | null>((resolve) => out.toBlob(resolve, 'image/png'));
  if (blob) download(blob, `${baseName()}.png`);
}

function saveNpy(): void {
  const map = state.explained?.map;
  if (!map) return;
  const bytes = encodeNpy(map.data, [map.height, map.width]);
  download(
    new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }),
    `${baseName()}.npy`,
  );
}

function saveJson(): void {
  const explained = state.explained;
  const image = state.image;
  if (!explained || !image) return;
  const display = overlayOptions();
  const region = state.region;
  const details = {
    image: { name: state.imageName, width: image.width, height: image.height },
    model: state.model?.name,
    predictions: state.predictions,
    target: explained.target,
    method: explained.method,
    options: explained.options,
    map: {
      width: explained.map.width,
      height: explained.map.height,
      signed: explained.map.signed,
      details: explained.map.details,
    },
    display,
    region: region
      ? {
          boxes: state.boxes.map((b) => ({
            x: Math.round(b.x),
            y: Math.round(b.y),
            width: Math.round(b.width),
            height: Math.round(b.height),
          })),
          share: region.attention.share,
          areaShare: region.attention.areaShare,
          concentration: region.attention.concentration,
          peakInside: region.attention.peakInside,
          level: region.level,
          verdict: region.sentence,
        }
      : null,
  };
  download(
    new Blob([`${JSON.stringify(details, null, 2)}\n`], { type: 'application/json' }),
    `${baseName()}.json`,
  );
}

export function setUpExport(): void {
  ui.savePng.addEventListener('click', () => void savePng());
  ui.saveNpy.addEventListener('click', saveNpy);
  ui.saveJson.addEventListener('click', saveJson);
}
