// A detector result's pictures (queue/result-pictures.ts): the coordinator takes exactly the maps its row names,
// each a WebP file, since their keys become file names in the output folder.
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AuditRow } from '../../src/audit/types.js';
import { MAX_RESULT_MAPS } from '../../src/queue/job.js';
import { detectPictures } from '../../src/queue/result-pictures.js';

let webp: string;
let png: string;
beforeAll(async () => {
  const raw = { raw: { width: 4, height: 4, channels: 3 as const } };
  webp = (await sharp(Buffer.alloc(48, 90), raw).webp().toBuffer()).toString('base64');
  png = (await sharp(Buffer.alloc(48, 90), raw).png().toBuffer()).toString('base64');
});

const detection = (index: number, map?: string) => ({
  index,
  label: 'red',
  classIndex: 0,
  score: 0.9,
  box: [0, 0, 2, 2] as [number, number, number, number],
  ...(map ? { map } : {}),
});

/** A row with `detections` detections, the first `explained` of them explained, and one missed object. */
function row(detections: number, explained: number): AuditRow {
  return {
    file: 'a.png',
    status: 'ok',
    task: 'detect',
    detect: {
      objects: 1,
      explained,
      detections: Array.from({ length: detections }, (_, i) =>
        detection(i, i < explained ? `det${i}` : undefined),
      ),
      misses: [{ object: 0, label: 'red', classIndex: 0, box: [0, 0, 2, 2], bestIou: 0, map: 'miss0' }],
    },
  };
}

const result = (maps: Record<string, string>) => ({
  file: 'a.png',
  row: {},
  overlay: webp,
  thumbnail: webp,
  maps,
});

describe('detectPictures', () => {
  it('takes one WebP per map the row names, keyed as the row names them', () => {
    const read = detectPictures(row(3, 2), result({ det0: webp, det1: webp, miss0: webp }));
    expect('pictures' in read && [...read.pictures.maps.keys()]).toEqual(['det0', 'det1', 'miss0']);
  });

  it.each([
    [
      'a map that is not WebP',
      () => result({ det0: png, det1: webp, miss0: webp }),
      "'maps.det0' is not a WebP file",
    ],
    [
      'a map the row does not name',
      () => result({ det0: webp, det1: webp, miss0: webp, '../x': webp }),
      "'maps' holds 4 pictures, expected one for each map the row names (3)",
    ],
    [
      'a missing map',
      () => result({ det0: webp, miss0: webp }),
      "'maps' holds 2 pictures, expected one for each map the row names (3)",
    ],
    [
      'maps that are no object',
      () => ({ ...result({}), maps: [webp] }),
      "'maps' is not an object of the row's map pictures",
    ],
    [
      "a row's own picture that is not WebP",
      () => ({ ...result({ det0: webp, det1: webp, miss0: webp }), overlay: png }),
      'its pictures are not WebP files of a sensible size',
    ],
  ])('refuses %s, in words', (_, make, words) => {
    const read = detectPictures(row(3, 2), make() as Parameters<typeof detectPictures>[1]);
    expect('problem' in read && read.problem).toContain(words);
  });

  it('refuses a row whose map keys are not its own entries, or name more maps than a result carries', () => {
    const forged = row(3, 2);
    (forged.detect?.detections[2] as { map?: string }).map = 'det2'; // past `explained`
    expect(detectPictures(forged, result({}))).toEqual({
      problem: '\'detect.detections[2].map\' is "det2", expected none (not explained)',
    });
    const outside = row(1, 1);
    (outside.detect?.misses[0] as { map?: string }).map = '../../escaped';
    expect(detectPictures(outside, result({}))).toEqual({ problem: "'detect.misses[0].map' is not 'miss0'" });
    const many = row(MAX_RESULT_MAPS, MAX_RESULT_MAPS);
    expect(detectPictures(many, result({}))).toEqual({
      problem: `the row names ${MAX_RESULT_MAPS + 1} maps, over the ${MAX_RESULT_MAPS} a result may carry`,
    });
    const { detect: _, ...noPart } = row(1, 1);
    expect(detectPictures(noPart, result({}))).toEqual({
      problem: "an ok row of a detector's audit has no 'detect' part",
    });
  });
});
