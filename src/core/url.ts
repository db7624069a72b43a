/**
 * Whether a reference (a model, an image, a manifest's entry) names an http(s) URL rather than a path: the one
 * test every loader, the CLI and the queue use, so that they agree on what is fetched and what is read.
 */
export function isHttpUrl(ref: string): boolean {
  return /^https?:\/\//i.test(ref);
}
