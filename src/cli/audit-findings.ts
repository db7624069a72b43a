// The audit's findings as the CLI prints them after its summary line: one line each, numbered as in the report.
import type { Finding } from '../audit/findings.js';
import { NEEDS_ATTENTION_FILE } from '../audit/report/findings.js';
import { terminalSafe } from '../core/text.js';

/** Findings printed in full; the rest are counted, and are in the report and needs-attention.csv. */
export const FINDINGS_PRINTED = 5;

/**
 * "Findings (their files in needs-attention.csv):" then "  1. <sentence>" per finding, or "Findings: none.".
 * A sentence may quote a class name from the model's class list, so it is made safe for a terminal.
 */
export function findingsLines(findings: readonly Finding[]): string {
  if (findings.length === 0) return 'Findings: none.\n';
  const shown = findings
    .slice(0, FINDINGS_PRINTED)
    .map((f, i) => `  ${i + 1}. ${terminalSafe(f.text, { oneLine: true })}`);
  const more =
    findings.length > shown.length ? [`  … and ${findings.length - shown.length} more in the report.`] : [];
  return [`Findings (their files in ${NEEDS_ATTENTION_FILE}):`, ...shown, ...more, ''].join('\n');
}
