// HTML escaping, shared by the audit report and the evaluation summary page.

/** Text as HTML text or attribute value: &, <, >, " and ' escaped. */
export function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}
