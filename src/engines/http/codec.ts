// The JSON contract's two halves (docs/http-models.md): model inputs → request items, response text → scores.
import sharp from 'sharp';
import type { ModelSpec } from '../../core/model.js';
import { batchImageToRgb } from '../../core/pixels.js';
import type { Tensor } from '../../core/tensor.js';
import { TransientReplyError } from './client.js';

/** How images travel: PNG of the 8-bit pixels, or the normalised float tensor as JSON numbers. */
export type HttpInputFormat = 'png' | 'float32';

export type RequestItem =
  | { readonly png: string }
  | { readonly format: 'float32'; readonly shape: number[]; readonly data: number[] };

/** Request items for images [start, end) of a batch. */
export async function encodeInputs(
  batch: Tensor,
  start: number,
  end: number,
  spec: ModelSpec,
  format: HttpInputFormat,
): Promise<RequestItem[]> {
  const items: Promise<RequestItem>[] = [];
  const per = 3 * spec.width * spec.height;
  const shape = spec.layout === 'NCHW' ? [3, spec.height, spec.width] : [spec.height, spec.width, 3];
  for (let i = start; i < end; i++) {
    if (format === 'float32') {
      const data = Array.from(batch.data.subarray(i * per, (i + 1) * per));
      items.push(Promise.resolve({ format: 'float32', shape, data }));
    } else {
      // PNG carries 8-bit pixels: core/pixels' rounding is the documented contract (docs/http-models.md).
      const { width, height, data } = batchImageToRgb(batch, i, spec);
      items.push(
        sharp(data, { raw: { width, height, channels: 3 } })
          .png()
          .toBuffer()
          .then((png) => ({ png: png.toString('base64') })),
      );
    }
  }
  return Promise.all(items);
}

/** The contract's error, with what came and what was expected. */
export class ScoresError extends Error {}

/**
 * Response text → one score vector per input, all the same length, all finite. A body that is not JSON is a
 * TransientReplyError (a cut connection or a proxy's error page looks like that, and another try may fix it);
 * JSON of the wrong shape is a ScoresError, since asking again would get the same answer.
 */
export function parseScores(
  text: string,
  count: number,
  excerpt: (length: number) => string = (n) => text.trim().slice(0, n),
): number[][] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // Python's json.dumps (Flask's jsonify too) writes NaN and Infinity as bare words, which JSON lacks: the
    // server will say the same again, so this breaks the contract rather than being a cut reply.
    const word = /[[,:]\s*(-?Infinity|NaN)\s*[\],}]/.exec(text)?.[1];
    if (word !== undefined)
      throw new ScoresError(
        `the answer holds ${word}, which is not a number in JSON (Python's json.dumps writes it for a non-finite float); expected finite numbers`,
      );
    const start = excerpt(60);
    throw new TransientReplyError(
      `the answer is not JSON (${start ? `it starts ${JSON.stringify(start)}` : 'it is empty'}); expected {"scores": [[…], …]}`,
    );
  }
  const scores = (json as { scores?: unknown } | null)?.scores;
  if (!Array.isArray(scores))
    throw new ScoresError(`there is no 'scores' array; expected {"scores": [[…], …]}`);
  if (scores.length !== count)
    throw new ScoresError(
      `there are ${scores.length} score vectors for ${count} ${count === 1 ? 'input' : 'inputs'}; expected one per input, in order`,
    );
  let length = -1;
  scores.forEach((row: unknown, i) => {
    if (!Array.isArray(row) || row.length === 0)
      throw new ScoresError(`scores[${i}] is not a non-empty array of numbers`);
    if (length >= 0 && row.length !== length)
      throw new ScoresError(
        `the score vectors have different lengths (scores[0] has ${length}, scores[${i}] has ${row.length}); expected one length for every input`,
      );
    length = row.length;
    row.forEach((v: unknown, j) => {
      if (typeof v !== 'number' || !Number.isFinite(v))
        throw new ScoresError(
          // The value itself is not quoted: it came from the server, which may echo a credential into it.
          `scores[${i}][${j}] is ${typeof v === 'number' ? String(v) : v === null ? 'null' : Array.isArray(v) ? 'an array' : `a ${typeof v}`}; expected finite numbers`,
        );
    });
  });
  return scores as number[][];
}
