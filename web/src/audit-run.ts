// The audit in the engine worker: the dropped photos through the library's auditImages with the open model, as
// `sightline audit` runs them (same rows, same regions parsers and matching), rows sent to the page as they
// come (the page keeps and saves them). Cancelling keeps the rows done so far; nothing is written anywhere but
// back to the page.
import {
  type AuditItem,
  auditImages,
  checkShapes,
  collectVoc,
  decodeImageBlob,
  type ImageRegions,
  type Model,
  readBoxCsv,
  readCoco,
  readVoc,
  regionsFor,
  SightlineError,
  shapesMask,
} from '../../src/browser.js';
import { auditPictures } from './audit-pictures.js';
import type { AuditRegionsFile, AuditReply, AuditRequest } from './audit-protocol.js';

type Post = (reply: AuditReply | { type: 'progress'; id: number; done: number; total: number }) => void;

export async function runAudit(
  request: AuditRequest,
  model: Model,
  signal: AbortSignal,
  post: Post,
): Promise<void> {
  const { id } = request;
  if (request.photos.length === 0)
    throw new SightlineError(
      'INVALID_ARGUMENT',
      'No photos to audit: drop a folder of JPEG, PNG, WebP, GIF or BMP files.',
    );
  if (model.spec.task === 'detect' || model.spec.task === 'embed')
    throw new SightlineError(
      'INVALID_ARGUMENT',
      `The audit in this page runs classifiers, taggers, scorers and segmenters; this model is a${model.spec.task === 'embed' ? 'n embedding model' : ' detector'}: audit it with \`sightline audit\`.`,
    );
  const regions = request.regions?.length ? parseRegions(request.regions) : undefined;
  const photos = [...request.photos].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  const files = photos.map((p) => p.file);
  const items: AuditItem[] = photos.map(({ file, blob }) => {
    // A regions file naming one photo twice over is that photo's error, as in the CLI, not the audit's.
    let imageRegions: ImageRegions | undefined;
    let matchError: unknown;
    try {
      imageRegions = regions ? regionsFor(regions, file, files) : undefined;
    } catch (error) {
      matchError = error;
    }
    return {
      file,
      load: () => decodeImageBlob(blob, { name: file }),
      regionMask:
        imageRegions || matchError
          ? async (width, height) => {
              if (matchError) throw matchError;
              const found = imageRegions!;
              if (found.maskPath)
                throw new SightlineError(
                  'REGIONS',
                  `Mask PNGs are read by \`sightline audit\` only; '${file}' has one.`,
                );
              checkShapes(found, width, height, file);
              return shapesMask(found.shapes, width, height);
            }
          : undefined,
    };
  });
  let cancelled = false;
  try {
    await auditImages(items, {
      model,
      method: request.method,
      // One photo at a time: onnxruntime-web runs one call at a time anyway (one-run.ts).
      concurrency: 1,
      signal,
      onProgress: (p) => post({ type: 'progress', id, done: p.done, total: p.total }),
      async onRow(row, result) {
        const pictures =
          request.pictures && result ? await auditPictures(result.image, result.map) : undefined;
        post({ type: 'audit-row', id, row, ...(pictures ? { pictures } : {}) });
      },
    });
  } catch (error) {
    if (!signal.aborted) throw error;
    cancelled = true;
  }
  post({ type: 'audit', id, cancelled });
}

/** The regions the page read, by their file's extension, as readRegions picks the format in the CLI. */
function parseRegions(sources: readonly AuditRegionsFile[]): Map<string, ImageRegions> {
  const kinds = new Set(sources.map((s) => s.name.toLowerCase().replace(/^.*\./, '')));
  if (kinds.size === 1 && kinds.has('xml')) return collectVoc(sources.map((s) => readVoc(s.name, s.text)));
  if (sources.length === 1 && kinds.has('json')) return readCoco(sources[0].name, sources[0].text);
  if (sources.length === 1 && kinds.has('csv')) return readBoxCsv(sources[0].name, sources[0].text);
  throw new SightlineError(
    'REGIONS',
    `Regions files ${sources.map((s) => `'${s.name}'`).join(', ')}: expected one COCO .json file, one .csv file with columns file,x,y,width,height or file,xmin,ymin,xmax,ymax, or Pascal VOC .xml files.`,
  );
}
