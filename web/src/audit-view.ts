// What the audit panel shows: a table line per photo (its answer, the attention on its regions and the verdict
// in the report's words) and the dataset picture (the mean map over all photos and the counts behind it).
import { type AuditRow, type AuditSummary, colormap, VERDICT_WORDS } from '../../src/browser.js';

const percent = (x: number) => `${(x * 100).toFixed(1)}%`;

export function showAuditRow(body: HTMLElement, row: AuditRow): void {
  const line = document.createElement('tr');
  const cells: string[] = [row.file];
  if (row.status === 'error') {
    cells.push(`Error: ${row.error?.message ?? 'unknown'}`, '', '');
  } else {
    const top = row.predictions?.[0];
    const task = row.task ?? 'classify';
    cells.push(
      top ? `${top.label} ${task === 'score' ? top.score.toFixed(4) : percent(top.score)}` : '',
      row.region
        ? `${percent(row.region.share)} (the object covers ${percent(row.region.areaShare)} of the photo)`
        : row.noEvidence
          ? 'no evidence for the class'
          : 'no regions',
      row.region ? VERDICT_WORDS[row.region.verdict] : '',
    );
  }
  for (const text of cells) {
    const cell = document.createElement('td');
    cell.textContent = text;
    line.append(cell);
  }
  if (row.status === 'error') line.className = 'error';
  body.append(line);
}

/** The mean map on the canvas (turbo, scaled to its largest cell) and the summary in counts. */
export function showAuditSummary(box: HTMLElement, summary: AuditSummary, rows: readonly AuditRow[]): void {
  const canvas = box.querySelector('canvas')!;
  const text = box.querySelector('p')!;
  const side = Math.round(Math.sqrt(summary.meanMap.length));
  canvas.hidden = side === 0;
  if (side > 0) {
    canvas.width = side;
    canvas.height = side;
    const { lut } = colormap('turbo');
    const top = Math.max(...summary.meanMap) || 1;
    const pixels = new ImageData(side, side);
    summary.meanMap.forEach((v, i) => {
      const c = Math.round((v / top) * 255) * 3;
      pixels.data.set([lut[c], lut[c + 1], lut[c + 2], 255], i * 4);
    });
    canvas.getContext('2d')!.putImageData(pixels, 0, 0);
  }
  const withRegions = rows.filter((r) => r.region).length;
  const v = summary.verdicts;
  const parts = [
    `${summary.images} photos, ${summary.errors} error${summary.errors === 1 ? '' : 's'}.`,
    withRegions > 0
      ? `Of the ${withRegions} with regions, ${v.object} look at the object, ${v.partly} look partly outside, ${v.background} look at the background.`
      : 'No photo had regions, so there are no verdicts.',
    summary.images > summary.errors
      ? `On average ${percent(summary.borderShare)} of the attention falls on the photos' border band (an even spread would put ${percent(summary.borderAreaShare)} there).`
      : '',
    summary.noEvidence > 0 ? `${summary.noEvidence} found no evidence for the class.` : '',
    side > 0 ? 'The square shows where the model looks on average (red: most).' : '',
  ];
  text.textContent = parts.filter(Boolean).join(' ');
}
