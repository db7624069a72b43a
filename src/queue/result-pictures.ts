// A result's pictures, base64 in an untrusted result: each must decode to a WebP file of a sensible size, and a
// detector's maps must be exactly the ones its row names, since their keys become file names in the output.
import type { DetectPictures } from '../audit/detect-pictures.js';
import { MAX_PICTURE_BYTES, pictureType } from '../audit/pictures.js';
import type { AuditRow } from '../audit/types.js';
import { type AuditResult, MAX_RESULT_MAPS } from './job.js';

/** The picture's bytes, or undefined when it is not a WebP file of at most MAX_PICTURE_BYTES. */
export function picture(base64: unknown): Uint8Array | undefined {
  if (typeof base64 !== 'string' || base64.length > (MAX_PICTURE_BYTES * 4) / 3 + 4) return undefined;
  const bytes = Buffer.from(base64, 'base64');
  // WebP only, as renderRowPictures encodes them: writeRowPictures names the files .webp.
  return pictureType(bytes) === 'image/webp' ? bytes : undefined;
}

/**
 * A detector's ok row with its pictures, or what is wrong with them. The row (already checked by checkRow)
 * names its maps by key as auditDetections writes them: 'det<i>' for each of the first `explained` detections,
 * 'miss<j>' for each missed object j; the result carries exactly those, each a WebP overlay.
 */
export function detectPictures(
  row: AuditRow,
  result: AuditResult,
): { pictures: DetectPictures } | { problem: string } {
  const part = row.detect;
  if (!part) return { problem: "an ok row of a detector's audit has no 'detect' part" };
  const keys: string[] = [];
  for (const d of part.detections) {
    const key = d.index < part.explained ? `det${d.index}` : undefined;
    if (d.map !== key)
      return {
        problem: `'detect.detections[${d.index}].map' is ${JSON.stringify(d.map) ?? 'absent'}, expected ${key === undefined ? 'none (not explained)' : `'${key}'`}`,
      };
    if (key) keys.push(key);
  }
  for (const [i, m] of part.misses.entries()) {
    if (m.map !== `miss${m.object}`) return { problem: `'detect.misses[${i}].map' is not 'miss${m.object}'` };
    keys.push(m.map);
  }
  if (keys.length > MAX_RESULT_MAPS)
    return { problem: `the row names ${keys.length} maps, over the ${MAX_RESULT_MAPS} a result may carry` };
  const given = result.maps;
  if (typeof given !== 'object' || given === null || Array.isArray(given))
    return { problem: "'maps' is not an object of the row's map pictures" };
  const names = Object.keys(given);
  if (names.length !== keys.length || !keys.every((k) => Object.hasOwn(given, k)))
    return {
      problem: `'maps' holds ${names.length} picture${names.length === 1 ? '' : 's'}, expected one for each map the row names (${keys.length})`,
    };
  const maps = new Map<string, Uint8Array>();
  for (const key of keys) {
    const bytes = picture(given[key]);
    if (!bytes) return { problem: `'maps.${key}' is not a WebP file of a sensible size` };
    maps.set(key, bytes);
  }
  const overlay = picture(result.overlay);
  const thumbnail = picture(result.thumbnail);
  if (!overlay || !thumbnail) return { problem: 'its pictures are not WebP files of a sensible size' };
  return { pictures: { overlay, thumbnail, maps } };
}
