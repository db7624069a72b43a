// An image named by an http(s) URL (a manifest's entry, a queue job: an object store behind HTTP): fetched
// with a time limit and a size limit, so a slow or endless answer costs a bounded wait and bounded memory.
import { SightlineError } from '../core/errors.js';
import type { RgbImage } from '../core/image.js';
import { capText } from '../core/text.js';
import { isHttpUrl } from '../core/url.js';
import { DEFAULT_MAX_IMAGE_BYTES, decodeImage } from './decode.js';
import { formatBytes } from './read-file.js';

/** The longest wait for one image, headers and body together. */
export const FETCH_TIMEOUT_MS = 60_000;

/** `name` is how messages show the URL: without its credentials or query values (a signed URL's token). */
export async function fetchImage(
  url: string,
  name: string,
  maxBytes = DEFAULT_MAX_IMAGE_BYTES,
): Promise<Uint8Array> {
  const shown = capText(name, 300);
  const fail = (reason: string) =>
    new SightlineError(
      'IO',
      `Cannot fetch the image ${shown}: ${reason}; expected an image every worker can reach.`,
      {
        url: shown,
      },
    );
  const signal = AbortSignal.timeout(FETCH_TIMEOUT_MS);
  let response: Response;
  try {
    response = await fetch(url, { signal, redirect: 'follow' });
  } catch (cause) {
    throw fail(signal.aborted ? `no answer within ${FETCH_TIMEOUT_MS / 1000} s` : (cause as Error).message);
  }
  if (!response.ok || !response.body) {
    await response.body?.cancel().catch(() => {});
    throw fail(`the server answered ${response.status}`);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of response.body) {
      size += chunk.length;
      if (size > maxBytes) {
        await response.body.cancel().catch(() => {});
        throw fail(`it is over ${formatBytes(maxBytes)}`);
      }
      chunks.push(chunk);
    }
  } catch (cause) {
    if (cause instanceof SightlineError) throw cause;
    throw fail(signal.aborted ? `no answer within ${FETCH_TIMEOUT_MS / 1000} s` : (cause as Error).message);
  }
  return Buffer.concat(chunks);
}

/** Decodes the image at a path or an http(s) URL; `name` names a URL in messages (see fetchImage). */
export async function decodeSource(source: string, name: string): Promise<RgbImage> {
  return isHttpUrl(source) ? decodeImage(await fetchImage(source, name), { name }) : decodeImage(source);
}
