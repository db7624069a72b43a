// The comparison's report.html: one self-contained page (the audit report's style sheet inlined, pictures as
// data: URIs, no script, a policy that forbids every fetch), so it opens from an e-mail like the audit's own.
import { escapeHtml } from '../../core/html.js';
import { reportAssets } from '../report/assets.js';
import { pngUri } from '../report/escape.js';
import { selfContainedPage } from '../report/page.js';
import { kindWords, percent, plural, type RowKind, score } from '../report/row-view.js';
import { heatMapUri } from '../report/sections.js';
import type { AuditConfig } from '../types.js';
import {
  CHANGE_ORDER,
  type ChangeKind,
  type Comparison,
  type ImageChange,
  SHARE_STEP,
  type SideNumbers,
} from './compare.js';

/** Each image's two maps (the audits' overlays, shrunk to thumbnails), where the audits wrote them. */
export type CompareThumbnails = ReadonlyMap<string, { readonly a?: Uint8Array; readonly b?: Uint8Array }>;

const CHANGE_WORDS: Readonly<Record<ChangeKind, string>> = {
  worse: 'worse',
  mixed: 'worse and better',
  same: 'no change',
  better: 'better',
};

// The audit style sheet has no classes for changes; these few lines are the comparison's own.
const OWN_STYLE = `.change { display: inline-block; padding: 0 0.4rem; border-radius: 0.3rem; font-weight: 600; }
.change.worse { background: #fde2e1; color: #8a1c14; }
.change.mixed { background: #fff1cc; color: #6b4a00; }
.change.same { background: #eeeeee; color: #333333; }
.change.better { background: #dcf3e1; color: #14592a; }
.pair { display: flex; gap: 0.3rem; }
.warnings li { color: #8a1c14; }`;

const MAP_SIDE = 160;

/**
 * The comparison as one HTML page: what was compared (each audit's folder, model, method) and the warnings
 * about differing settings; the dataset numbers of A and B over the images both audited, with the change
 * (accuracy, kinds, mean share inside, shortcut flags, and counts of fixed, broken and changed images); the two
 * mean maps side by side; the images only one audit has; and every image worse first, with A → B for each
 * measure and the reasons in words. All text from the audits is HTML-escaped.
 */
export async function renderComparison(
  comparison: Comparison,
  thumbnails: CompareThumbnails = new Map(),
): Promise<string> {
  const { style } = await reportAssets();
  const [mapA, mapB] = await Promise.all([
    heatMapUri(comparison.numbers.a.meanMap),
    heatMapUri(comparison.numbers.b.meanMap),
  ]);
  const body = [
    '<header><h1>Sightline comparison</h1></header>',
    '<main>',
    runSection(comparison),
    numbersSection(comparison, mapA, mapB),
    onlySection(comparison),
    imagesSection(comparison, thumbnails),
    '</main>',
  ].join('\n');
  const css = `${style}\n${OWN_STYLE}`;
  return selfContainedPage({ title: 'Sightline comparison', style: css, body });
}

function facts(config: AuditConfig, folder: string, images: number): string {
  const options = Object.entries(config.options ?? {});
  const rows: [string, string][] = [
    ['Folder', folder],
    ['Model', config.model],
    ['Method', config.method],
    ['Options', options.length > 0 ? options.map(([k, v]) => `${k} = ${v}`).join(', ') : 'defaults'],
    ['Images', String(images)],
  ];
  if (config.labels) rows.push(['Labels', config.labels]);
  if (config.regions) rows.push(['Regions', config.regions]);
  return `<dl class="facts">${rows.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join('')}</dl>`;
}

function runSection(c: Comparison): string {
  const warnings =
    c.warnings.length > 0
      ? `<ul class="warnings">${c.warnings.map((w) => `<li>${escapeHtml(w)}</li>`).join('')}</ul>`
      : '<p class="note">Both audits ran the same method with the same options, regions and labels: the changes below come from the models.</p>';
  return `<section aria-labelledby="run-title">
<h2 id="run-title">What was compared</h2>
<div class="overview"><div><h3>A (before)</h3>${facts(c.a.config, c.a.folder, c.a.images)}</div>
<div><h3>B (after)</h3>${facts(c.b.config, c.b.folder, c.b.images)}</div></div>
${warnings}
</section>`;
}

function signed(delta: number, unit: 'points' | 'count'): string {
  if (!Number.isFinite(delta)) return '—';
  const value = unit === 'points' ? Math.round(delta * 100) : delta;
  const text = `${value > 0 ? '+' : value < 0 ? '−' : '±'}${Math.abs(value)}`;
  return unit === 'points' ? `${text} points` : text;
}

const KIND_ORDER: readonly RowKind[] = ['object', 'partly', 'background', 'noevidence', 'none', 'error'];

function numbersSection(c: Comparison, mapA: string | null, mapB: string | null): string {
  const { a, b } = c.numbers;
  const line = (what: string, x: string, y: string, d: string) =>
    `<tr><th scope="row">${what}</th><td class="num">${x}</td><td class="num">${y}</td><td class="num">${d}</td></tr>`;
  const share = (n: SideNumbers) => (n.meanShare === null ? '—' : `${percent(n.meanShare)} of ${n.shared}`);
  const acc = (n: SideNumbers) =>
    n.accuracy === null ? '—' : `${percent(n.accuracy)} (${n.correct} of ${n.labelled})`;
  const rows = [
    line(
      'Accuracy',
      acc(a),
      acc(b),
      a.accuracy === null || b.accuracy === null ? '—' : signed(b.accuracy - a.accuracy, 'points'),
    ),
    ...KIND_ORDER.filter((k) => a.kinds[k] + b.kinds[k] > 0).map((k) =>
      line(
        `<span class="badge ${k}">${escapeHtml(kindWords(k))}</span>`,
        String(a.kinds[k]),
        String(b.kinds[k]),
        signed(b.kinds[k] - a.kinds[k], 'count'),
      ),
    ),
    line(
      'Mean share inside the region',
      share(a),
      share(b),
      a.meanShare === null || b.meanShare === null ? '—' : signed(b.meanShare - a.meanShare, 'points'),
    ),
  ];
  if (a.flagged + b.flagged > 0)
    rows.push(
      line(
        'Images with a shortcut flag',
        String(a.flagged),
        String(b.flagged),
        signed(b.flagged - a.flagged, 'count'),
      ),
    );
  const n = c.numbers;
  const counts = CHANGE_ORDER.map(
    (k) => `<span class="change ${k}">${CHANGE_WORDS[k]}</span> ${n.changes[k]}`,
  ).join(', ');
  const map = (uri: string | null, side: string) =>
    uri
      ? `<figure class="map"><img src="${uri}" width="${MAP_SIDE}" height="${MAP_SIDE}" alt="Mean heat map of audit ${side}"><figcaption>${side}: where the model looks on average (blue least, red most attention).</figcaption></figure>`
      : `<p>${side}: no image produced a map.</p>`;
  return `<section aria-labelledby="numbers-title">
<h2 id="numbers-title">The dataset</h2>
<p>${plural(n.both, 'image')} in both audits. ${counts}. Right → wrong: <strong>${n.broken}</strong>; wrong → right: <strong>${n.fixed}</strong>; top prediction changed: ${n.predictionChanged}; verdict towards the background: ${n.verdictWorse}, towards the object: ${n.verdictBetter}.</p>
<table class="small">
<caption>Over the ${plural(n.both, 'image')} both audits have</caption>
<thead><tr><th scope="col"></th><th scope="col">A</th><th scope="col">B</th><th scope="col">Change</th></tr></thead>
<tbody>${rows.join('\n')}</tbody>
</table>
<div class="overview">${map(mapA, 'A')}${map(mapB, 'B')}</div>
</section>`;
}

function onlySection(c: Comparison): string {
  if (c.onlyA.length + c.onlyB.length === 0) return '';
  const list = (files: readonly string[], side: string) =>
    files.length === 0
      ? ''
      : `<h3>Only in ${side} (${files.length})</h3><ul>${files.map((f) => `<li>${escapeHtml(f)}</li>`).join('')}</ul>`;
  return `<section aria-labelledby="only-title">
<h2 id="only-title">Images only one audit has</h2>
<p class="note">Not counted above: they cannot be compared.</p>
${list(c.onlyA, 'A')}${list(c.onlyB, 'B')}
</section>`;
}

function arrow(x: string, y: string): string {
  return x === y ? escapeHtml(x) : `${escapeHtml(x)} → ${escapeHtml(y)}`;
}

function yes(v: boolean | undefined): string {
  return v === undefined ? '' : v ? 'right' : 'wrong';
}

function imageRow(c: ImageChange, thumbs: { a?: Uint8Array; b?: Uint8Array } | undefined): string {
  const pic = (png: Uint8Array | undefined, side: string) =>
    png ? `<img class="thumb" src="${pngUri(png)}" alt="Map of audit ${side}" title="${side}">` : '';
  const prediction = (v: ImageChange['a']) =>
    v.status === 'error'
      ? `error ${v.error ?? ''}`
      : v.prediction
        ? `${v.prediction} ${score(v.score, v.task)}`
        : '';
  const flags = [...c.flagsGained.map((f) => `+ ${f}`), ...c.flagsLost.map((f) => `− ${f}`)];
  const cells = [
    `<td><div class="pair">${pic(thumbs?.a, 'A')}${pic(thumbs?.b, 'B')}</div></td>`,
    `<th scope="row">${escapeHtml(c.file)}</th>`,
    `<td><span class="change ${c.change}">${CHANGE_WORDS[c.change]}</span></td>`,
    `<td>${arrow(prediction(c.a), prediction(c.b))}</td>`,
    `<td>${escapeHtml(c.a.label ?? c.b.label ?? '')}</td>`,
    `<td>${arrow(yes(c.a.correct), yes(c.b.correct))}</td>`,
    `<td>${arrow(kindWords(c.a.kind), kindWords(c.b.kind))}</td>`,
    `<td class="num">${arrow(percent(c.a.share), percent(c.b.share))}</td>`,
    `<td>${flags.map(escapeHtml).join('<br>')}</td>`,
    `<td>${[...c.worse, ...c.better].map(escapeHtml).join('; ')}</td>`,
  ];
  return `<tr>${cells.join('')}</tr>`;
}

function imagesSection(c: Comparison, thumbnails: CompareThumbnails): string {
  const head = [
    'Image',
    'File',
    'Change',
    'Prediction',
    'Label',
    'Correct',
    'Verdict',
    'Share inside',
    'Flags',
    'Why',
  ]
    .map((t) => `<th scope="col">${t}</th>`)
    .join('');
  return `<section aria-labelledby="images-title">
<h2 id="images-title">Every image, worse first</h2>
<p class="note">A → B. Worse: fails where it did not, right → wrong, the verdict moving towards the background, the share inside falling by ${Math.round(SHARE_STEP * 100)} points or more, a new shortcut flag; better the other way. Images with both come after the worse ones; within each group, the weightier changes first.</p>
<div class="table-wrap">
<table id="images">
<thead><tr>${head}</tr></thead>
<tbody>
${c.images.map((image) => imageRow(image, thumbnails.get(image.file))).join('\n')}
</tbody>
</table>
</div>
</section>`;
}
