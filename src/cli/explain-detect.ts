/**
 * `sightline explain` on a detector (task 'detect'): the photo's detections listed (label, score, box in photo
 * pixels), then a map for each of the top --detections (or the one --target names), each drawn with its box
 * into its own overlay, `<photo>-<method>-det<i>.png` (or --out with -det<i> before the extension). An
 * instance-segmentation detector's mask is outlined on the overlay too, and is the region the map's share is
 * measured in ("is the map on the object?"; the box where there is no mask). --json gives each mask as COCO's
 * uncompressed RLE over the photo ({size: [height, width], counts}, column-major, from 0s), which pycocotools'
 * frPyObjects and every COCO reader take.
 */
import { writeFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { SightlineError } from '../core/errors.js';
import type { RgbImage } from '../core/image.js';
import type { MethodOptions } from '../core/method.js';
import type { Model } from '../core/model.js';
import {
  type DetectionRegionShare,
  detectionRegionShare,
  detectionTarget,
  detectPhotoOutputs,
  type PhotoDetection,
} from '../explain/detect.js';
import { dRiseDetections } from '../explain/drise-detections.js';
import { type Explanation, explain, photoMap } from '../explain.js';
import { writeNpy } from '../io/npy-file.js';
import type { RiseOptions } from '../methods/perturbation/rise.js';
import { type AnyMethod, checkCapabilities, getMethod, resolveOptions } from '../methods/registry.js';
import { maskRle } from '../models/detect-mask.js';
import { drawBox } from '../render/boxes.js';
import type { ColormapName } from '../render/colormaps.js';
import { defaultColormap } from '../render/colormaps.js';
import { drawMask } from '../render/masks.js';
import type { NormalizeMode } from '../render/normalize.js';
import { renderOverlay } from '../render/overlay.js';
import { encodePng, encodeRgbPng, renderOverlayWithLegend } from '../render/png.js';
import { print, printJson, safeName } from './print.js';
import { progressBar } from './progress.js';

export interface DetectRun {
  readonly image: string;
  readonly photo: RgbImage;
  readonly model: Model;
  readonly method: AnyMethod;
  readonly options: MethodOptions;
  readonly target: string;
  readonly detections: number;
  readonly out?: string;
  readonly saveMap?: string;
  readonly json: boolean;
  readonly layer?: string;
  readonly look: {
    readonly colormap?: ColormapName;
    readonly mode?: NormalizeMode;
    readonly opacity: number;
    readonly outlineTop: number;
    readonly outlineSmoothing: number;
    readonly legend: boolean;
  };
  readonly signal: AbortSignal;
}

const box = (b: readonly number[]) =>
  b.map((v) => Math.round(v * 10) / 10) as [number, number, number, number];

/** Where detection i's overlay goes. */
function overlayPath(run: DetectRun, i: number, many: boolean): string {
  if (run.out && !many) return run.out;
  if (run.out) {
    const ext = extname(run.out);
    return `${run.out.slice(0, run.out.length - ext.length)}-det${i}${ext || '.png'}`;
  }
  return `${basename(run.image, extname(run.image))}-${run.method.id}-det${i}.png`;
}

export async function runExplainDetect(run: DetectRun): Promise<void> {
  const { model, photo, method } = run;
  const listed = await detectPhotoOutputs(model, photo, run.signal);
  const one = run.target !== 'top';
  if (run.saveMap && !one && Math.min(run.detections, listed.detections.length) > 1)
    throw new SightlineError(
      'INVALID_ARGUMENT',
      '--save-map writes one map; with a detector, name the detection to explain with --target (an index or a label).',
    );
  if (!(Number.isInteger(run.detections) && run.detections >= 1))
    throw new SightlineError(
      'INVALID_ARGUMENT',
      `--detections must be a whole number ≥ 1; got ${run.detections}.`,
    );
  const wanted: (number | string)[] = one
    ? [run.target]
    : listed.detections.slice(0, run.detections).map((d) => d.index);
  const files: {
    detection: PhotoDetection;
    overlay: string;
    map?: string;
    region?: DetectionRegionShare;
  }[] = [];
  const together = await dRiseAll(run, listed, one ? [] : (wanted as number[]));
  for (const [t, target] of wanted.entries()) {
    const result = together?.[t] ?? (await explainOne(run, target));
    const description = result.target.description;
    if (description?.kind !== 'detection') throw new Error('a detector gave a non-detection target');
    const detection = listed.detections[description.detection];
    const many = !one && wanted.length > 1;
    const out = overlayPath(run, detection.index, many);
    const mode = run.look.mode ?? (result.map.signed ? 'positive' : 'absolute');
    const look = { ...run.look, colormap: run.look.colormap ?? defaultColormap(mode), mode };
    let png: Uint8Array;
    if (run.look.legend) {
      const rgb = await renderOverlayWithLegend(photo, result.map.data, {
        ...look,
        legend: { method: method.title, target: `${detection.label} #${detection.index}` },
      });
      // The mask over the box: it is the finer of the two where they meet.
      drawBox(rgb, 3, detection.box, { rows: photo.height });
      if (detection.mask) drawMask(rgb, 3, detection.mask, { rows: photo.height });
      png = await encodeRgbPng(rgb);
    } else {
      const rgba = renderOverlay(photo, result.map.data, look);
      drawBox(rgba, 4, detection.box);
      if (detection.mask) drawMask(rgba, 4, detection.mask);
      png = await encodePng(rgba);
    }
    await writeFile(out, png);
    if (run.saveMap) await writeNpy(run.saveMap, result.map.data, [result.map.height, result.map.width]);
    const region = detectionRegionShare(result.map, detection);
    files.push({
      detection,
      overlay: out,
      ...(run.saveMap ? { map: run.saveMap } : {}),
      ...(region ? { region } : {}),
    });
  }
  if (run.json) {
    const mapOf = new Map(files.map((f) => [f.detection.index, f]));
    printJson({
      task: 'detect',
      format: listed.format,
      detections: listed.detections.map((d) => ({
        index: d.index,
        label: d.label,
        class: d.classIndex,
        score: d.score,
        box: box(d.box),
        ...(d.mask ? { mask: maskRle(d.mask, photo.width, photo.height) } : {}),
        overlay: mapOf.get(d.index)?.overlay ?? null,
        map: mapOf.get(d.index)?.map ?? null,
        ...regionJson(mapOf.get(d.index)),
      })),
      method: method.id,
      options: run.options,
      image: { path: run.image, width: photo.width, height: photo.height },
    });
    return;
  }
  printDetections(run.image, listed.detections, model.spec.detect?.scoreThreshold ?? 0.25);
  for (const f of files) {
    print(
      `${method.title} map for '${safeName(f.detection.label)}' #${f.detection.index} written to ${safeName(f.overlay)}\n`,
    );
    print(`  ${regionWords(f.region, f.detection.mask !== undefined)}\n`);
  }
  if (run.saveMap) print(`Raw map [${photo.height}, ${photo.width}] written to ${safeName(run.saveMap)}\n`);
}

type Explained = Pick<Explanation, 'map' | 'target'>;

/** One detection through explain(), which prepares the photo again and runs the method for it alone. */
async function explainOne(run: DetectRun, target: number | string): Promise<Explained> {
  const bar = progressBar(`${run.method.title} ${typeof target === 'number' ? `#${target}` : target}`);
  return explain({
    model: run.model,
    image: run.photo,
    method: run.method,
    target,
    options: run.options,
    layer: run.layer,
    signal: run.signal,
    onProgress: bar.update,
  }).finally(() => bar.stop());
}

/**
 * With the registered D-RISE, the listed detections' maps from one set of N masked passes on the photo's own
 * outputs (dRiseDetections), where explain() runs the detector 2 + N times for each; the maps are the same
 * numbers, put on the photo by explain's own photoMap. Undefined for any other method, or a D-RISE object a
 * caller made, which go one by one. D-RISE reads no layer and needs only predictions, so explain's checks
 * have nothing more to refuse than resolveOptions and checkCapabilities here.
 */
async function dRiseAll(
  run: DetectRun,
  listed: Awaited<ReturnType<typeof detectPhotoOutputs>>,
  indices: readonly number[],
): Promise<Explained[] | undefined> {
  const { method, model } = run;
  if (indices.length === 0 || method !== getMethod('d-rise')) return undefined;
  const options = resolveOptions(method, run.options) as RiseOptions;
  checkCapabilities(method, model);
  const bar = progressBar(`${method.title} ${indices.map((i) => `#${i}`).join(' ')}`);
  const maps = await dRiseDetections(
    model,
    listed.input,
    listed.outputs,
    listed.layout,
    indices.map((i) => listed.raw[i]),
    options,
    { signal: run.signal, onProgress: bar.update },
  ).finally(() => bar.stop());
  return maps.map((m, t) => ({
    map: photoMap(m, listed.geometry),
    target: detectionTarget(listed.detections[indices[t]]),
  }));
}

/**
 * An explained detection's region share for --json: `region` names what was measured ('mask' or 'box'), or is
 * null when the map holds no attention (nothing in the photo raised the score).
 */
function regionJson(f: { region?: DetectionRegionShare; map?: string } | undefined) {
  if (!f) return {};
  const r = f.region;
  if (!r) return { region: null };
  return {
    region: {
      used: r.region,
      share: round4(r.share),
      areaShare: round4(r.areaShare),
      concentration: round4(r.concentration),
      peakInside: r.peakInside,
      verdict: r.level,
    },
  };
}

const round4 = (v: number) => Math.round(v * 10_000) / 10_000;

const ON_OBJECT = { inside: 'mostly on', partly: 'partly on', outside: 'mostly off' } as const;

/** "62% of the map lies inside its mask (8% of the photo): mostly on the object; its peak is inside." */
function regionWords(r: DetectionRegionShare | undefined, hasMask: boolean): string {
  if (!r) return 'the map holds no attention: nothing in the photo raised this detection’s score';
  const where = r.region === 'mask' ? 'its mask' : hasMask ? 'its box (its mask is empty)' : 'its box';
  return (
    `${Math.round(r.share * 100)}% of the map lies inside ${where} (${Math.round(r.areaShare * 100)}% of the photo): ` +
    `${ON_OBJECT[r.level]} the object; its peak is ${r.peakInside ? 'inside' : 'outside'}`
  );
}

/** Detections listed in text (--json lists all): a random-weight SSD gives hundreds of equal ones. */
const LISTED = 20;

function printDetections(image: string, detections: readonly PhotoDetection[], threshold: number): void {
  const name = safeName(image);
  if (detections.length === 0) {
    print(
      `No detections above the score threshold ${threshold} in ${name}; lower it (--score-threshold 0.05) to see weaker ones.\n`,
    );
    return;
  }
  print(
    `${detections.length} detection${detections.length === 1 ? '' : 's'} in ${name} (box x0,y0,x1,y1 in photo pixels):\n`,
  );
  for (const d of detections.slice(0, LISTED))
    print(
      `  #${d.index}  ${(d.score * 100).toFixed(1).padStart(5)}%  ${safeName(d.label)} (${d.classIndex})  ${box(d.box).join(',')}\n`,
    );
  if (detections.length > LISTED)
    print(`  … and ${detections.length - LISTED} more (--json lists them all)\n`);
}
