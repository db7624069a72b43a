// A detector audit's rows and summary in words, for the terminal, report.html and results.csv.
import { type AuditVerdict, type DetectRowPart, VERDICT_WORDS } from '../types.js';

const pct = (v: number) => `${(v * 100).toFixed(1)}%`;

/** One line for a row: how many detections found an object, how many were false positives, how many missed. */
export function detectCountWords(d: DetectRowPart): string {
  if (d.noGroundTruth)
    return `${d.detections.length} detection${d.detections.length === 1 ? '' : 's'} (no ground truth to match them with)`;
  const found = d.detections.filter((e) => e.object !== undefined).length;
  const fp = d.detections.length - found;
  return `${d.detections.length} detection${d.detections.length === 1 ? '' : 's'} (${found} found an object, ${fp} false positive${fp === 1 ? '' : 's'}), ${d.misses.length} of ${d.objects} object${d.objects === 1 ? '' : 's'} missed`;
}

function mapWords(
  e: { boxShare?: number; verdict?: AuditVerdict; noEvidence?: boolean; map?: string },
  own: string,
): string {
  if (e.noEvidence) return 'its map is zero everywhere (nothing in the photo raises its similarity)';
  if (e.boxShare === undefined) return 'not explained (past --detections)';
  const share = `${pct(e.boxShare)} of its map inside ${own}`;
  return e.verdict ? `${VERDICT_WORDS[e.verdict]} (${share})` : share;
}

/** Each detection and missed object with its verdict in words, for the report's detail list. */
export function detectDetails(d: DetectRowPart): [string, string][] {
  const out: [string, string][] = [['Detections', detectCountWords(d)]];
  for (const e of d.detections) {
    const where = `[${e.box.join(', ')}]`;
    const verdict = d.noGroundTruth
      ? mapWords(e, 'its box')
      : e.object !== undefined
        ? `found object ${e.object} (IoU ${e.iou?.toFixed(2)}); ${mapWords(e, 'its box')}${e.objectShare !== undefined ? `, ${pct(e.objectShare)} inside the object` : ''}`
        : `false positive: why did it see a '${e.label}' here? ${mapWords(e, 'its box')}`;
    out.push([
      `#${e.index} ${e.label} ${pct(e.score)} at ${where}`,
      `${verdict}${e.map ? ` (map: ${e.map})` : ''}`,
    ]);
  }
  for (const m of d.misses)
    out.push([
      `Missed ${m.label} (object ${m.object}) at [${m.box.join(', ')}]`,
      `no detection of its class overlaps it by IoU 0.5 (best ${m.bestIou.toFixed(2)}); explained with its box as the target: ${mapWords(m, 'the box')}${m.map ? ` (map: ${m.map})` : ''}`,
    ]);
  return out;
}
