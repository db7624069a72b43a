// The head every self-contained report page shares (the audit's report.html, compare's report.html): a policy
// that allows only the page's own style and script by hash and data: pictures, so nothing is fetched.
import { escapeHtml } from '../../core/html.js';
import { base64 } from './escape.js';

export interface PageParts {
  readonly title: string;
  readonly style: string;
  readonly body: string;
  /** The page's one inline script, allowed by its hash; none: no script may run. */
  readonly script?: string;
  /** Rows and pictures in files beside the page (paged reports) may load too. */
  readonly filesBeside?: boolean;
}

export async function selfContainedPage({
  title,
  style,
  body,
  script,
  filesBeside,
}: PageParts): Promise<string> {
  const self = filesBeside ? " 'self'" : '';
  const policy = [
    "default-src 'none'",
    `img-src data:${self}`,
    `style-src '${await cspHash(style)}'`,
    ...(script === undefined ? [] : [`script-src '${await cspHash(script)}'${self}`]),
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<meta http-equiv="Content-Security-Policy" content="${policy}">`,
    '<meta name="referrer" content="no-referrer">',
    `<title>${escapeHtml(title)}</title>`,
    '<link rel="icon" href="data:,">',
    `<style>${style}</style>`,
    '</head>',
    '<body>',
    body,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/** A CSP hash source; Web Crypto, which Node and browsers both have (the web app renders reports too). */
async function cspHash(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return `sha256-${base64(new Uint8Array(digest))}`;
}
