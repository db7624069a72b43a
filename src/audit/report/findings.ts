// The report's findings section (the first under the title) and needs-attention.csv: the findings of
// audit/findings.ts in markup, each with a button that filters the images table to its files (through the
// verdict menu, which both the single-file and the paged table obey) and scrolls to it, and the files they name
// as CSV. A button, not a link: the page refers to no URL at all, not even its own fragments.
import { escapeHtml } from '../../core/html.js';
import { type Finding, filesNeedingAttention } from '../findings.js';
import { csvField } from './csv.js';

/** The verdict menu's value (and a row's filter kind) for a finding. */
export function findingKind(finding: Finding): string {
  return `finding-${finding.id}`;
}

/** Files listed under a finding in the page; the rest are a click on its button away (and in the CSV). */
export const FINDING_FILES_SHOWN = 50;

/** The file written beside the report listing the files the findings name. */
export const NEEDS_ATTENTION_FILE = 'needs-attention.csv';

/** The findings section: each finding's sentence, what to do, a button showing its images, and their names. */
export function findingsSection(findings: readonly Finding[], images: number): string {
  if (findings.length === 0) {
    return `<section aria-labelledby="findings-title">
<h2 id="findings-title">Findings</h2>
<p>Nothing to flag: none of the ${images} image${images === 1 ? '' : 's'} looks mostly at the background or at a corner or border, and none is wrong where the model looked at the object.</p>
</section>`;
  }
  const items = findings.map((f) => {
    const shown = f.files.slice(0, FINDING_FILES_SHOWN);
    const more =
      f.files.length > shown.length
        ? `<li class="note">and ${f.files.length - shown.length} more (the button above shows them all)</li>`
        : '';
    return `<li data-finding-id="${escapeHtml(f.id)}">
<p class="finding-text">${escapeHtml(f.text)}</p>
<p class="finding-advice"><strong>What to do:</strong> ${escapeHtml(f.advice)}</p>
<p><button type="button" class="finding-link" data-finding="${escapeHtml(findingKind(f))}">Show ${f.count === 1 ? 'this image' : `these ${f.count} images`} in the table</button></p>
<details><summary>Files (${f.count})</summary><ul>${shown.map((file) => `<li>${escapeHtml(file)}</li>`).join('')}${more}</ul></details>
</li>`;
  });
  return `<section aria-labelledby="findings-title">
<h2 id="findings-title">Findings</h2>
<ol class="findings">
${items.join('\n')}
</ol>
<p class="note">Each number is counted from the image rows below. The files the findings name are listed, each with its findings, in ${NEEDS_ATTENTION_FILE} beside this report.</p>
</section>`;
}

/** The verdict menu's options for the findings, after the kinds. */
export function findingOptions(findings: readonly Finding[]): string {
  return findings
    .map(
      (f, i) =>
        `<option value="${escapeHtml(findingKind(f))}">finding ${i + 1} (${f.count} image${f.count === 1 ? '' : 's'})</option>`,
    )
    .join('');
}

/** needs-attention.csv's columns. */
export const NEEDS_ATTENTION_COLUMNS = ['file', 'findings', 'finding_ids', 'what_to_do'] as const;

/**
 * needs-attention.csv: one line per file a finding names, in file-name order, with the findings' sentences
 * (' | '-separated), their ids (';'-separated) and what to do; CRLF lines, fields as results.csv writes them.
 */
export function needsAttentionCsv(findings: readonly Finding[]): string {
  const lines = [NEEDS_ATTENTION_COLUMNS.join(',')];
  for (const { file, findings: named } of filesNeedingAttention(findings)) {
    lines.push(
      [
        file,
        named.map((f) => f.text).join(' | '),
        named.map((f) => f.id).join(';'),
        [...new Set(named.map((f) => f.advice))].join(' | '),
      ]
        .map(csvField)
        .join(','),
    );
  }
  return `${lines.join('\r\n')}\r\n`;
}

/** Per file, the filter kinds of the findings that name it. */
export function findingKindsByFile(findings: readonly Finding[]): Map<string, string[]> {
  const kinds = new Map<string, string[]>();
  for (const f of findings) {
    for (const file of f.files) {
      const named = kinds.get(file);
      if (named) named.push(findingKind(f));
      else kinds.set(file, [findingKind(f)]);
    }
  }
  return kinds;
}
