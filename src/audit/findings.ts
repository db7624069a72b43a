// The audit's findings in plain words: short sentences at the top of the report, each counted from the rows and
// naming the files behind it, with what to do about it. Portable (no node: imports), so the web app can make
// them from the rows it holds. Each finder is independent: a new kind of finding is one more function in FINDERS.
import { compareText } from './aggregate.js';
import { type AuditCluster, type AuditRow, type AuditSummary, SUMMARY_GRID } from './types.js';

export interface Finding {
  /** Stable and safe in a URL, an HTML attribute and a CSV field: [a-z0-9-]. */
  readonly id: string;
  /** What was found, every number in it counted from the rows. */
  readonly text: string;
  /** What to do about it. */
  readonly advice: string;
  /** The images behind the finding: files.length. */
  readonly count: number;
  /** Their row files, in file-name order. */
  readonly files: readonly string[];
}

/** Finds zero or more findings in an audit's rows and summary (summarize(rows)). */
export type Finder = (rows: readonly AuditRow[], summary: AuditSummary) => Finding[];

/** Where most of a map's attention lies, when one part of the picture holds at least PLACE_SHARE of it. */
export interface MapPlace {
  readonly kind: 'corner' | 'border' | 'centre';
  /** 'top-left corner', 'bottom border', 'centre'. */
  readonly where: string;
  /** The part's share of the map's attention. */
  readonly share: number;
  /** The part's share of the picture's area, as cells of the SUMMARY_GRID². */
  readonly area: number;
}

/** The least share of attention in one part of the picture for "the attention is in that corner (border)". */
export const PLACE_SHARE = 0.5;

/**
 * A place finding needs at least this many images, and this share of the images with a map: two images looking
 * at a corner is a coincidence in a large audit, not a pattern.
 */
export const PLACE_MIN_IMAGES = 2;
export const PLACE_MIN_FRACTION = 0.1;

/**
 * Where a summary map (SUMMARY_GRID², e.g. a row's summary or a cluster's mean) holds at least PLACE_SHARE of
 * its attention, checked from the most to the least specific part: a corner ninth (the picture cut in thirds
 * both ways; the one holding most), then a border band (the outer quarter of a side: the one holding most), then
 * the central ninth. Null when no part holds that much (the attention is spread out) or the map is empty.
 */
export function placeOf(map: readonly number[]): MapPlace | null {
  const grid = SUMMARY_GRID;
  if (map.length !== grid * grid) return null;
  // A cell belongs to a part when its centre does, so every cell is in exactly one third (quarter) of each axis.
  const thirds = Int8Array.from({ length: grid }, (_, c) => {
    const t = (c + 0.5) / grid;
    return t < 1 / 3 ? 0 : t > 2 / 3 ? 2 : 1;
  });
  const quarter = (c: number) => {
    const t = (c + 0.5) / grid;
    return t < 0.25 ? 0 : t > 0.75 ? 1 : -1;
  };
  // The band a row (column) of cells is in: top 0, bottom 1 (left 2, right 3); -1 for none.
  const rowBand = Int8Array.from({ length: grid }, (_, c) => quarter(c));
  const columnBand = Int8Array.from({ length: grid }, (_, c) => (quarter(c) < 0 ? -1 : 2 + quarter(c)));
  // One pass: the mass and cells of each ninth (row-major by thirds) and of the four border bands.
  const ninth = new Float64Array(9);
  const ninthCells = new Float64Array(9);
  const band = new Float64Array(4); // top, bottom, left, right
  const bandCells = new Float64Array(4);
  let total = 0;
  for (let y = 0; y < grid; y++) {
    for (let x = 0; x < grid; x++) {
      const v = Math.max(0, map[y * grid + x]);
      total += v;
      const n = thirds[y] * 3 + thirds[x];
      ninth[n] += v;
      ninthCells[n]++;
      if (rowBand[y] >= 0) {
        band[rowBand[y]] += v;
        bandCells[rowBand[y]]++;
      }
      if (columnBand[x] >= 0) {
        band[columnBand[x]] += v;
        bandCells[columnBand[x]]++;
      }
    }
  }
  if (!(total > 0)) return null;
  const best = (kind: MapPlace['kind'], parts: readonly (readonly [string, number, number])[]) => {
    let found: MapPlace | null = null;
    for (const [where, mass, cells] of parts) {
      const share = mass / total;
      if (share >= PLACE_SHARE && (found === null || share > found.share)) {
        found = { kind, where, share, area: cells / (grid * grid) };
      }
    }
    return found;
  };
  const corners = [
    ['top-left corner', 0],
    ['top-right corner', 2],
    ['bottom-left corner', 6],
    ['bottom-right corner', 8],
  ] as const;
  const borders = ['top border', 'bottom border', 'left border', 'right border'];
  return (
    best(
      'corner',
      corners.map(([where, n]) => [where, ninth[n], ninthCells[n]] as const),
    ) ??
    best(
      'border',
      borders.map((where, b) => [where, band[b], bandCells[b]] as const),
    ) ??
    best('centre', [['centre', ninth[4], ninthCells[4]]])
  );
}

/** A place in words with its numbers: "100% of the attention in the top-left corner (a ninth of the picture)". */
export function placeWords(place: MapPlace): string {
  return `${pct(place.share)} of the attention in the ${place.where} (${areaWords(place)})`;
}

function areaWords(place: MapPlace): string {
  return place.kind === 'border' ? 'the outer quarter of the picture' : 'a ninth of the picture';
}

/** An image that could not be audited. */
const errorsFinder: Finder = (rows) => {
  const files = fileList(rows.filter((r) => r.status === 'error'));
  if (files.length === 0) return [];
  return [
    finding(
      'errors',
      `${files.length} of ${images(rows.length)} could not be audited.`,
      'Fix or remove these files (the error column of each row says why), then run the audit again: the ' +
        'images already done are kept.',
      files,
    ),
  ];
};

/** Images whose map looks mostly at the background, and the group of similar maps most of them are in. */
const backgroundFinder: Finder = (rows, summary) => {
  const judged = judgedRows(rows);
  const background = rows.filter((r) => r.status === 'ok' && r.region?.verdict === 'background');
  if (background.length === 0) return [];
  const files = fileList(background);
  let text = `${files.length} of ${judged.length} images with a marked object: the model looks mostly at the background (less than half of its attention on the object)`;
  const labelled = background.filter((r) => typeof r.correct === 'boolean');
  const right = labelled.filter((r) => r.correct).length;
  if (labelled.length > 0) {
    text += `; its answer is right on ${right} of the ${labelled.length} labelled ${labelled.length === 1 ? 'one' : 'ones'}`;
  }
  const group = mainGroup(summary.clusters, files);
  let advice =
    'Vary the backgrounds: add images of these classes on other backgrounds (and of other classes on these ' +
    'backgrounds), then audit again.';
  if (group && group.count >= 2) {
    const place = placeOf(group.cluster.mean);
    text += `; ${group.count} of them are in group ${group.number}${place ? ` (mean map: ${placeWords(place)})` : ''}`;
    advice =
      place?.kind === 'corner'
        ? `Look at the ${place.where} of group ${group.number}'s images: crop out or cover what sits there (a watermark, logo or date stamp?), or add images without it, then audit again.`
        : place?.kind === 'border'
          ? `Look at the ${place.where} of group ${group.number}'s images (a frame, a caption, a floor or sky that one class shares?): crop it out or vary it, then audit again.`
          : `Vary the backgrounds, starting with images like group ${group.number}'s: add images of these classes on other backgrounds, then audit again.`;
  }
  return [finding('background', `${text}.`, advice, files)];
};

/**
 * Images whose own map holds at least PLACE_SHARE of its attention in one corner or border band, away from the
 * marked object where there is one: one finding per place with enough images.
 */
const placeFinder: Finder = (rows) => {
  const mapped = rows.filter((r) => r.status === 'ok' && r.summary !== undefined);
  const byPlace = new Map<string, { place: MapPlace; rows: AuditRow[]; shares: number[] }>();
  for (const row of mapped) {
    if (row.region?.verdict === 'object') continue;
    const place = placeOf(row.summary!);
    if (!place || place.kind === 'centre') continue;
    const entry = byPlace.get(place.where) ?? { place, rows: [], shares: [] };
    entry.rows.push(row);
    entry.shares.push(place.share);
    byPlace.set(place.where, entry);
  }
  const least = Math.max(PLACE_MIN_IMAGES, Math.ceil(PLACE_MIN_FRACTION * mapped.length));
  const away = mapped.some((r) => r.region) ? ', not on the marked object' : '';
  return [...byPlace.values()]
    .filter((e) => e.rows.length >= least)
    .sort((a, b) => b.rows.length - a.rows.length || compareText(a.place.where, b.place.where))
    .map(({ place, rows: found, shares }) => {
      // A loop, not Math.min(...shares): tens of thousands of arguments overflow the stack.
      const [low, high] = shares.reduce(([l, h], v) => [Math.min(l, v), Math.max(h, v)], [1, 0]);
      const range = pct(low) === pct(high) ? `${pct(low)} on each` : `${pct(low)} to ${pct(high)}`;
      return finding(
        `place-${place.where.replace(' ', '-')}`,
        `${found.length} of ${images(mapped.length)} with a map: at least ${pct(PLACE_SHARE)} of the attention ` +
          `(${range}) is in the ${place.where} (${areaWords(place)})${away}.`,
        place.kind === 'corner'
          ? `Look at the ${place.where} of these images: crop out or cover what sits there (a watermark, logo, ` +
              'date stamp or frame), or add images without it, then audit again.'
          : `Look at the ${place.where} of these images (a frame, a caption, a floor or sky that one class shares?): ` +
              'crop it out or vary it, then audit again.',
        fileList(found),
      );
    });
};

/** Wrong answers where the model looked at the object: a mislabelled file or classes that look alike. */
const wrongOnObjectFinder: Finder = (rows) => {
  const looked = rows.filter(
    (r) => r.status === 'ok' && typeof r.correct === 'boolean' && r.region?.verdict === 'object',
  );
  const files = fileList(looked.filter((r) => r.correct === false));
  if (files.length === 0) return [];
  return [
    finding(
      'wrong-on-object',
      `Wrong on ${files.length} of the ${looked.length} labelled images where the model looked at the object (its answer is not the label).`,
      'Check these labels first: relabel the files that are wrong; where the label is right, add examples that ' +
        'tell the two classes apart.',
      files,
    ),
  ];
};

/** Maps zero everywhere: the model found no evidence for the explained class. */
const noEvidenceFinder: Finder = (rows) => {
  const files = fileList(rows.filter((r) => r.status === 'ok' && r.noEvidence === true));
  if (files.length === 0) return [];
  return [
    finding(
      'no-evidence',
      `On ${files.length} of ${images(rows.length)} the map is zero everywhere: the model found no evidence for the explained class.`,
      'Check the labels of these images; if they are right, the model does not see the class in them: add ' +
        'training images like these.',
      files,
    ),
  ];
};

/**
 * audit --shortcuts' flags (row field `shortcuts`): images where the model keeps its answer with the object
 * removed, per class, and images whose answer changes with the background alone.
 */
const shortcutFinder: Finder = (rows) => {
  const tested = rows.filter((r) => r.status === 'ok' && r.shortcuts !== undefined);
  if (tested.length === 0) return [];
  const flags = (r: AuditRow) => r.shortcuts!;
  const byLabel = new Map<string, AuditRow[]>();
  for (const row of tested) {
    if (flags(row).reliesOnContext !== true) continue;
    const label = flags(row).target.label;
    const same = byLabel.get(label);
    if (same) same.push(row);
    else byLabel.set(label, [row]);
  }
  const found = [...byLabel]
    .sort(([a, x], [b, y]) => y.length - x.length || compareText(a, b))
    .map(([label, context], i) =>
      finding(
        `context-${i + 1}`,
        `With the object removed, the model still says '${label}' on ${context.length} of ${images(tested.length)} tested.`,
        `It answers '${label}' from the surroundings: add images of it on other backgrounds, and of other ` +
          'classes on backgrounds like these, then audit again with --shortcuts.',
        fileList(context),
      ),
    );
  const fragile = tested.filter((r) => flags(r).fragile === true);
  if (fragile.length > 0) {
    found.push(
      finding(
        'fragile',
        `The model changes its answer on ${fragile.length} of ${images(tested.length)} tested when only the background changes.`,
        'Vary the backgrounds in training: add images of each class on many backgrounds.',
        fileList(fragile),
      ),
    );
  }
  return found;
};

/** A detector's false positives, maps looking outside their own box, and missed objects. */
const detectFinder: Finder = (rows) => {
  const detected = rows.filter((r) => r.status === 'ok' && r.detect);
  if (detected.length === 0) return [];
  const found: Finding[] = [];
  const truth = detected.filter((r) => !r.detect!.noGroundTruth);
  const fp = truth.filter((r) => r.detect!.detections.some((d) => d.object === undefined));
  if (fp.length > 0) {
    const n = fp.reduce((s, r) => s + r.detect!.detections.filter((d) => d.object === undefined).length, 0);
    found.push(
      finding(
        'false-positives',
        `${n} false positive${n === 1 ? '' : 's'} (detections that match no marked object) on ${fp.length} of ${images(truth.length)}.`,
        'Look for objects the ground truth lacks (add their boxes); where there is none, add images like these ' +
          'without the object.',
        fileList(fp),
      ),
    );
  }
  const outside = detected.filter((r) => r.detect!.detections.some((d) => d.verdict === 'background'));
  if (outside.length > 0) {
    const n = outside.reduce(
      (s, r) => s + r.detect!.detections.filter((d) => d.verdict === 'background').length,
      0,
    );
    found.push(
      finding(
        'outside-boxes',
        `On ${outside.length} of ${images(detected.length)}, ${n} detection${n === 1 ? '' : 's'}' maps look mostly outside ${n === 1 ? 'its' : 'their'} own box.`,
        'The detector may find these objects by their surroundings: add images of them in other settings.',
        fileList(outside),
      ),
    );
  }
  const missed = truth.filter((r) => r.detect!.misses.length > 0);
  if (missed.length > 0) {
    const n = missed.reduce((s, r) => s + r.detect!.misses.length, 0);
    found.push(
      finding(
        'missed',
        `${n} marked object${n === 1 ? '' : 's'} missed on ${missed.length} of ${images(truth.length)}.`,
        'Add training images like these, with these objects marked.',
        fileList(missed),
      ),
    );
  }
  return found;
};

/** The finders, in the order their findings are shown: the most telling first. */
export const FINDERS: readonly Finder[] = [
  backgroundFinder,
  placeFinder,
  shortcutFinder,
  wrongOnObjectFinder,
  detectFinder,
  noEvidenceFinder,
  errorsFinder,
];

/** Every finder's findings on the rows, in FINDERS order. */
export function auditFindings(
  rows: readonly AuditRow[],
  summary: AuditSummary,
  finders: readonly Finder[] = FINDERS,
): Finding[] {
  return finders.flatMap((find) => find(rows, summary));
}

/** The files the findings name, in file-name order, each with the findings (in order) that name it. */
export function filesNeedingAttention(
  findings: readonly Finding[],
): { readonly file: string; readonly findings: readonly Finding[] }[] {
  const byFile = new Map<string, Finding[]>();
  for (const f of findings) {
    for (const file of f.files) {
      const named = byFile.get(file);
      if (named) named.push(f);
      else byFile.set(file, [f]);
    }
  }
  return [...byFile]
    .sort(([a], [b]) => compareText(a, b))
    .map(([file, named]) => ({ file, findings: named }));
}

/** Rows with a region verdict, or a region but no evidence: the images the verdicts are counted over. */
function judgedRows(rows: readonly AuditRow[]): AuditRow[] {
  return rows.filter((r) => r.status === 'ok' && (r.region || (r.noEvidence && r.regionGiven)));
}

/** The cluster (1-based number) holding most of `files`; the first such on ties. */
function mainGroup(
  clusters: readonly AuditCluster[],
  files: readonly string[],
): { cluster: AuditCluster; number: number; count: number } | undefined {
  const wanted = new Set(files);
  let best: { cluster: AuditCluster; number: number; count: number } | undefined;
  clusters.forEach((cluster, i) => {
    const count = cluster.members.filter((m) => wanted.has(m)).length;
    if (count > 0 && (best === undefined || count > best.count)) best = { cluster, number: i + 1, count };
  });
  return best;
}

function finding(id: string, text: string, advice: string, files: readonly string[]): Finding {
  return { id, text, advice, count: files.length, files };
}

function fileList(rows: readonly AuditRow[]): string[] {
  return [...new Set(rows.map((r) => r.file))].sort(compareText);
}

function images(n: number): string {
  return `${n} image${n === 1 ? '' : 's'}`;
}

function pct(share: number): string {
  return `${Math.round(share * 100)}%`;
}
