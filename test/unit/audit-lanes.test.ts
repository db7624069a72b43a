/**
 * The audit's runner (audit.ts inLanes): `concurrency` images in their model passes at once; an image whose
 * passes are over (modelDone) gives its lane to the next while its pictures are written, rows in the items'
 * order; a failure or a cancel starts nothing more and waits for the images in flight.
 */
import { describe, expect, it } from 'vitest';
import { inLanes } from '../../src/audit/audit.js';

/** A step another part of the test releases by hand. */
function gate(): { wait: Promise<void>; open(): void } {
  let open = () => {};
  const wait = new Promise<void>((resolve) => (open = resolve));
  return { wait, open };
}

const turns = async (n = 5) => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
};

describe('inLanes', () => {
  it('starts the next image once the last one is done with the model, and writes rows in order', async () => {
    const log: string[] = [];
    const writing = [gate(), gate(), gate()];
    const done = inLanes([0, 1, 2], { concurrency: 1 }, async (i, modelDone) => {
      log.push(`model ${i}`);
      await turns();
      const turn = modelDone();
      log.push(`released ${i}`);
      await turn;
      log.push(`write ${i}`);
      await writing[i].wait;
      log.push(`written ${i}`);
    });
    await turns(20);
    // One lane: image 1 runs its model while 0's row is written, then waits for its turn to write; image 2
    // waits for a place (one image in the model, one finishing).
    expect([...log].sort()).toEqual(['model 0', 'model 1', 'released 0', 'released 1', 'write 0']);
    writing[1].open();
    await turns(20);
    expect(log.length).toBe(5);
    writing[0].open();
    await turns(20);
    const at = (entry: string) => log.indexOf(entry);
    expect([...log.slice(5)].sort()).toEqual([
      'model 2',
      'released 2',
      'write 1',
      'write 2',
      'written 0',
      'written 1',
    ]);
    expect(at('written 0')).toBeLessThan(at('write 1'));
    expect(at('written 1')).toBeLessThan(at('write 2'));
    // Image 2 waited for image 0 to end (two in flight at most with one lane).
    expect(at('written 0')).toBeLessThan(at('model 2'));
    writing[2].open();
    await done;
    expect(log.at(-1)).toBe('written 2');
  });

  it('keeps at most `concurrency` images in their model passes', async () => {
    let inModel = 0;
    let most = 0;
    const progress: number[] = [];
    await inLanes(
      Array.from({ length: 9 }, (_, i) => i),
      { concurrency: 3, onProgress: (p) => progress.push(p.done) },
      async (i, modelDone) => {
        inModel++;
        most = Math.max(most, inModel);
        await turns(1 + (i % 4));
        inModel--;
        modelDone();
        await turns(1 + ((i * 7) % 5));
      },
    );
    expect(most).toBe(3);
    expect(progress).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('starts no more images after a failure, and throws it once those in flight have ended', async () => {
    const started: number[] = [];
    const ended: number[] = [];
    const slow = gate();
    const run = inLanes([0, 1, 2, 3, 4], { concurrency: 2 }, async (i) => {
      started.push(i);
      if (i === 0) {
        await slow.wait;
        ended.push(i);
        return;
      }
      await turns();
      throw new Error(`image ${i} failed`);
    });
    let settled = false;
    run.catch(() => undefined).finally(() => (settled = true));
    await turns(20);
    expect(started).toEqual([0, 1]);
    expect(settled).toBe(false);
    slow.open();
    await expect(run).rejects.toThrow('image 1 failed');
    expect(ended).toEqual([0]);
  });

  it('stops between images when cancelled', async () => {
    const controller = new AbortController();
    const started: number[] = [];
    const run = inLanes([0, 1, 2, 3], { concurrency: 1, signal: controller.signal }, async (i) => {
      started.push(i);
      if (i === 1) controller.abort();
      await turns();
    });
    await expect(run).rejects.toMatchObject({ code: 'ABORTED' });
    expect(started).toEqual([0, 1]);
  });
});
