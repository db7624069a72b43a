// A picture file's type from its first bytes; apart from pictures.ts (Node files) so report.html's renderer,
// which the web app runs too, needs no Node module.

/**
 * The picture's media type from its first bytes: PNG (the pictures of audits before WebP, and detectors'), JPEG
 * or WebP; undefined for anything else, which the report does not show.
 */
export function pictureType(bytes: Uint8Array): 'image/png' | 'image/jpeg' | 'image/webp' | undefined {
  const starts = (offset: number, magic: readonly number[]) =>
    bytes.length >= offset + magic.length && magic.every((b, i) => bytes[offset + i] === b);
  if (starts(0, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  if (starts(0, [0xff, 0xd8, 0xff])) return 'image/jpeg';
  // "RIFF", four bytes of length, "WEBP".
  if (starts(0, [0x52, 0x49, 0x46, 0x46]) && starts(8, [0x57, 0x45, 0x42, 0x50])) return 'image/webp';
  return undefined;
}
