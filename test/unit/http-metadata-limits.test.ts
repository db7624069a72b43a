// What an HTTP model's metadata may declare: sizes and counts past sane limits are refused with the limit named,
// and the server's values show in messages only redacted and cut short.
import { afterEach, describe, expect, it } from 'vitest';
import { SightlineError } from '../../src/core/errors.js';
import { loadHttpModel } from '../../src/models/http.js';
import { type ModelServer, startModelServer } from '../helpers/http-model-server.js';

const KEY = 'sk-metadata-limits-SECRET';
let servers: ModelServer[] = [];

afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

async function refusal(metadata: Record<string, unknown>): Promise<{ message: string; url: string }> {
  const server = await startModelServer({ metadata });
  servers.push(server);
  process.env.SIGHTLINE_LIMITS_KEY = KEY;
  const error = await loadHttpModel(server.url, {
    http: { apiKeyEnv: 'SIGHTLINE_LIMITS_KEY', retries: 0 },
  }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SightlineError);
  expect((error as SightlineError).code).toBe('MODEL_LOAD');
  return { message: (error as SightlineError).message, url: server.url };
}

describe('HTTP metadata limits', () => {
  it.each([
    [{ width: 60000, height: 60000 }, "'width' 60000; expected a whole number from 1 to 4096"],
    [{ width: 224, height: 4097 }, "'height' 4097; expected a whole number from 1 to 4096"],
    [{ width: 0, height: 8 }, "'width' 0; expected a whole number from 1 to 4096"],
    [{ width: 8, height: 8, maxBatch: 5000 }, "'maxBatch' 5000; expected a whole number from 1 to 4096"],
    [
      { labels: Array.from({ length: 100_001 }, (_, i) => `c${i}`) },
      "'labels' (an array of 100001); expected an array of at most 100000 class names of at most 1000 characters",
    ],
    [
      { labels: ['x'.repeat(1001)] },
      "'labels' (an array of 1); expected an array of at most 100000 class names of at most 1000 characters",
    ],
    [{ std: [0.5, 0, 0.5] }, "'std' (an array of 3); expected one or three finite, positive numbers"],
    [{ mean: [1, 2] }, "'mean' (an array of 2); expected one or three finite numbers"],
    [{ layout: { nested: true } }, "'layout' (an object); expected one of NCHW, NHWC"],
  ])('refuses %j', async (metadata, says) => {
    const { message, url } = await refusal(metadata);
    expect(message).toBe(`The metadata of the model at ${url} (GET) has ${says}.`);
  });

  it('a string value is shown redacted and cut to 40 characters', async () => {
    const { message } = await refusal({ layout: `Bearer ${KEY} and then a long tail of words that goes on` });
    expect(message).toContain(
      `has 'layout' "[redacted] and then a long tail of words…"; expected one of NCHW, NHWC.`,
    );
    expect(message).not.toContain(KEY);
  });
});
