import { join } from 'node:path';
import { cachedEntry, sha256 } from './cache.js';
import { type ConvertedTfliteModel, convertTfliteModel } from './open.js';

/** Bumped whenever the converter's output changes, so stale cached conversions are not reused. */
export const CONVERTER_VERSION = 2;

export interface ConvertedTflite extends ConvertedTfliteModel {
  /** The cached ONNX file. */
  readonly path: string;
  /** The cache entry's name, under which the model's gradient graphs are kept too. */
  readonly cacheKey: string;
  readonly fromCache: boolean;
}

/** What the converted model's user needs to know that the ONNX file does not say. */
type Facts = Omit<ConvertedTfliteModel, 'bytes'>;

/** Converts a TFLite file to ONNX once and keeps the result under the cache, keyed by the source's hash. */
export async function convertTfliteCached(tflite: Uint8Array): Promise<ConvertedTflite> {
  const key = `${sha256(tflite).slice(0, 24)}-v${CONVERTER_VERSION}`;
  const entry = await cachedEntry(key, () => {
    const { bytes, ...facts } = convertTfliteModel(tflite);
    return { 'model.onnx': bytes, 'facts.json': new TextEncoder().encode(JSON.stringify(facts)) };
  });
  const facts = JSON.parse(new TextDecoder().decode(entry.files['facts.json'])) as Facts;
  return {
    path: join(entry.dir, 'model.onnx'),
    cacheKey: key,
    bytes: entry.files['model.onnx'],
    ...facts,
    fromCache: entry.hit,
  };
}
