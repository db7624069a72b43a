// Data and bytes made safe to place in report.html (text goes through core/html.ts's escapeHtml).

/** JSON that is safe inside a <script> element: no "</script>", no "<!--", no line separators. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replaceAll('<', '\\u003c')
    .replaceAll('>', '\\u003e')
    .replaceAll('&', '\\u0026')
    .replaceAll('\u2028', '\\u2028')
    .replaceAll('\u2029', '\\u2029');
}

import { pictureType } from '../picture-type.js';

/** PNG bytes as a data: URI, the only kind of picture the report's policy allows. */
export function pngUri(png: Uint8Array): string {
  return `data:image/png;base64,${base64(png)}`;
}

/**
 * A picture's bytes (PNG, JPEG or WebP, told by its first bytes) as a data: URI; a file of any other kind is
 * refused before this (write.ts reports it missing), so it never reaches the page.
 */
export function pictureUri(bytes: Uint8Array): string {
  const type = pictureType(bytes);
  if (type === undefined) throw new TypeError('pictureUri: not a PNG, JPEG or WebP picture');
  return `data:${type};base64,${base64(bytes)}`;
}

/** Bytes in base64, with btoa (Node and browsers both have it; the report is rendered in both). */
export function base64(bytes: Uint8Array): string {
  let text = '';
  // In slices: String.fromCharCode takes its arguments on the stack.
  for (let i = 0; i < bytes.length; i += 0x8000)
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}
