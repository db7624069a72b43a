// What `sightline audit --queue` cannot carry (a detector's audit explaining more detections per image than a
// result carries) is refused in words with exit 2 before anything is written or enqueued, on a live Redis: a
// detector's audit once ran here in silence, the Redis URL unused.
import { existsSync } from 'node:fs';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { DETECTOR_FIXTURES, writeSquaresPhoto } from '../helpers/detector-photo.js';
import { type QueueFixture, queueFixture } from '../helpers/queue.js';

let q: QueueFixture;
const at = (name: string) => join(q.dir, name);

beforeAll(async () => {
  q = await queueFixture('queue-refusals', 2);
  await copyFile(`${DETECTOR_FIXTURES}yolov8_seg.onnx`, at('seg.onnx'));
  await writeFile(at('seg.json'), JSON.stringify({ labels: ['red', 'green', 'blue'] }));
  await mkdir(at('squares'));
  await writeSquaresPhoto(at('squares/a.png'));
}, 30_000);

afterAll(async () => {
  await q?.stop();
}, 30_000);

/** The audit's exit, its stderr, whether it made its output folder, and the keys it left in Redis. */
async function refused(args: string[]) {
  const out = at(`out-${args.length}`);
  const r = await runCli(['audit', ...args, '--queue', q.redis.url, '--out', out]);
  const client = q.redis.client();
  const keys = await client.dbsize();
  client.disconnect();
  return { ...r, wrote: existsSync(out), keys };
}

describe('sightline audit --queue refusals', () => {
  it("refuses a detector's audit with more --detections than a result carries", async () => {
    const r = await refused([
      at('squares'),
      '--model',
      at('seg.onnx'),
      '--method',
      'grad-cam',
      '--detections',
      '101',
    ]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(
      "--queue explains at most 100 detections per image (--detections 101): each map's overlay travels through Redis.",
    );
    expect(r.stdout).not.toContain('Audited');
    expect(r.wrote).toBe(false);
    expect(r.keys).toBe(0);
  }, 60_000);
});
