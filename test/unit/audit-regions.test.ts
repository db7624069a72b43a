import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkShapes, readMask, readRegions, regionsFor } from '../../src/audit/regions/index.js';
import type { ImageRegions } from '../../src/audit/types.js';
import { SightlineError } from '../../src/core/errors.js';
import { shapesMask } from '../../src/core/regions/mask.js';
import type { RegionShape } from '../../src/core/regions/shapes.js';
import { SHARED_IMAGES } from '../helpers/cli.js';
import { thrown } from '../helpers/errors.js';
import { DOG_BOX } from '../helpers/regions.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/audit/', import.meta.url));
const COCO = join(FIXTURES, 'coco.json');
const VOC = join(FIXTURES, 'voc/dog.xml');
const CSV = join(FIXTURES, 'boxes.csv');

/** The README's dog (x0, y0, x1, y1, end-exclusive) as a box. */
const DOG: RegionShape = {
  type: 'box',
  x: DOG_BOX[0],
  y: DOG_BOX[1],
  width: DOG_BOX[2] - DOG_BOX[0],
  height: DOG_BOX[3] - DOG_BOX[1],
};
const TRUCK: RegionShape = { type: 'polygon', points: [466, 170, 466, 110, 520, 74, 694, 74, 694, 170] };

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sightline-regions-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

let count = 0;
/** Writes `text` to a fresh file named `name` in the temporary folder and returns its path. */
async function file(name: string, text: string): Promise<string> {
  const folder = join(dir, `f${count++}`);
  await mkdir(folder, { recursive: true });
  const path = join(folder, name);
  await writeFile(path, text);
  return path;
}

async function rejection(promise: Promise<unknown>, code = 'REGIONS'): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SightlineError);
  expect((error as SightlineError).code).toBe(code);
  return (error as SightlineError).message;
}

function coco(annotations: unknown[], images: unknown[] = [{ id: 1, file_name: 'dog.jpg' }]): string {
  return JSON.stringify({ images, annotations, categories: [{ id: 18, name: 'dog' }] });
}

function voc(body: string, filename = '<filename>dog.jpg</filename>'): string {
  return `<annotation>${filename}${body}</annotation>`;
}

describe('the fixtures for dog.jpg', () => {
  it('COCO: the dog box and the truck polygon, keyed by file_name', async () => {
    expect(await readRegions(COCO)).toEqual(new Map([['dog.jpg', { shapes: [DOG, TRUCK], source: COCO }]]));
  });

  it('Pascal VOC: 1-based inclusive corners 129, 223, 316, 540 are the same box', async () => {
    const expected = new Map([['dog.jpg', { shapes: [DOG], source: VOC }]]);
    expect(await readRegions(VOC)).toEqual(expected);
    expect(await readRegions(join(FIXTURES, 'voc'))).toEqual(expected);
  });

  it('CSV: the same box', async () => {
    expect(await readRegions(CSV)).toEqual(new Map([['dog.jpg', { shapes: [DOG], source: CSV }]]));
  });

  it('the three formats give the same mask for the dog, and it fits the real 768×576 photo', async () => {
    const { width, height } = await sharp(join(SHARED_IMAGES, 'dog.jpg')).metadata();
    expect([width, height]).toEqual([768, 576]);
    const masks = [];
    for (const path of [COCO, VOC, CSV]) {
      const regions = (await readRegions(path)).get('dog.jpg')!;
      checkShapes(regions, width, height, 'dog.jpg');
      masks.push(shapesMask([regions.shapes[0]], width, height));
    }
    const area = masks[0].reduce((a, b) => a + b, 0);
    expect(area).toBe(188 * 318);
    // Buffer.equals: a deep toEqual over 442 368 elements takes seconds.
    expect(Buffer.from(masks[1]).equals(masks[0])).toBe(true);
    expect(Buffer.from(masks[2]).equals(masks[0])).toBe(true);
  });
});

describe('readRegions: COCO', () => {
  it('an RLE segmentation (uncompressed, as COCO stores crowds) becomes boxes of column runs', async () => {
    // 3 rows × 4 columns, column-major runs 1 off, 2 on, 1 off, 5 on, 3 off:
    //   0 0 1 0
    //   1 1 1 0
    //   1 1 1 0
    // Columns 0 and 1 share the run rows 1–2 (one box 2 wide); column 2 is whole.
    const path = await file(
      'crowd.json',
      coco(
        [{ id: 7, image_id: 1, bbox: [0, 0, 3, 3], segmentation: { counts: [1, 2, 1, 5, 3], size: [3, 4] } }],
        [{ id: 1, file_name: 'dog.jpg', width: 4, height: 3 }],
      ),
    );
    const regions = (await readRegions(path)).get('dog.jpg')!;
    expect(regions.shapes).toEqual([
      { type: 'box', x: 0, y: 1, width: 2, height: 2 },
      { type: 'box', x: 2, y: 0, width: 1, height: 3 },
    ]);
    expect([...shapesMask(regions.shapes, 4, 3)]).toEqual([0, 0, 1, 0, 1, 1, 1, 0, 1, 1, 1, 0]);
  });

  it("an RLE segmentation in pycocotools' compressed string form", async () => {
    // "324O" is 3, 2, 4, then 'O' = 31 → −1 as a delta from the run two back (2): 1. On 2 rows × 5 columns.
    // "X18": 'X' = 40 = 8 + a continuation bit, then '1' → 8 + 1·32 = 40; then 8. On 8 rows × 6 columns.
    const path = await file(
      'compressed.json',
      coco(
        [
          { id: 1, image_id: 1, segmentation: { counts: '324O', size: [2, 5] } },
          { id: 2, image_id: 2, segmentation: { counts: 'X18', size: [8, 6] } },
        ],
        [
          { id: 1, file_name: 'a.jpg' },
          { id: 2, file_name: 'b.jpg' },
        ],
      ),
    );
    const index = await readRegions(path);
    expect(index.get('a.jpg')!.shapes).toEqual([
      { type: 'box', x: 1, y: 1, width: 1, height: 1 },
      { type: 'box', x: 2, y: 0, width: 1, height: 1 },
      { type: 'box', x: 4, y: 1, width: 1, height: 1 },
    ]);
    expect(index.get('b.jpg')!.shapes).toEqual([{ type: 'box', x: 5, y: 0, width: 1, height: 8 }]);
  });

  it('prefers polygons to the bbox, skips polygons of fewer than 3 points, leaves out images without shapes', async () => {
    const path = await file(
      'mixed.json',
      coco(
        [
          { id: 1, image_id: 1, bbox: [0, 0, 10, 10], segmentation: [[0, 0, 4, 0, 0, 4]] },
          { id: 2, image_id: 1, bbox: [5, 5, 2, 3], segmentation: [[5, 5, 6, 6]] },
        ],
        [
          { id: 1, file_name: './photos\\dog.jpg' },
          { id: 2, file_name: 'empty.jpg' },
        ],
      ),
    );
    expect(await readRegions(path)).toEqual(
      new Map([
        [
          'photos/dog.jpg',
          {
            shapes: [
              { type: 'polygon', points: [0, 0, 4, 0, 0, 4] },
              { type: 'box', x: 5, y: 5, width: 2, height: 3 },
            ],
            source: path,
          },
        ],
      ]),
    );
  });

  it('malformed annotations, each named with its file and what was expected', async () => {
    const cases: [unknown[], string][] = [
      [
        [{ id: 17, image_id: 1, category_id: 18, bbox: [10, 20, -5, 8] }],
        "Annotation 17 (dog) in '#' has bbox [10, 20, -5, 8]; expected [x, y, width, height] with width, height > 0.",
      ],
      [
        [{ id: 3, image_id: 1, bbox: [10, 20, 5] }],
        "Annotation 3 in '#' has bbox [10, 20, 5]; expected [x, y, width, height] with width, height > 0.",
      ],
      [
        [{ id: 4, image_id: 9, bbox: [1, 2, 3, 4] }],
        "Annotation 4 in '#' has image_id 9, which 'images' does not list; expected the id of an entry of images.",
      ],
      [
        [{ id: 5, image_id: 1 }],
        "Annotation 5 in '#' has neither a bbox nor a segmentation polygon; expected bbox [x, y, width, height].",
      ],
      [
        [{ id: 6, image_id: 1, segmentation: [[1, 2, 3, 4, 5]] }],
        "Annotation 6 in '#' has the segmentation polygon [1, 2, 3, 4, 5]; expected a flat list x0, y0, x1, y1, … " +
          'of finite numbers.',
      ],
      [
        [{ image_id: 1, segmentation: 'polygon' }],
        'Annotations[0] in \'#\' has segmentation "polygon"; expected a list of polygons or an RLE {counts, size}.',
      ],
      [
        [{ id: 8, image_id: 1, segmentation: { counts: [1, 2], size: [2, 2] } }],
        "Annotation 8 in '#' has RLE counts that add up to 3; expected 2 × 2 = 4 pixels.",
      ],
      [
        [{ id: 9, image_id: 1, segmentation: { counts: '3', size: [2] } }],
        "Annotation 9 in '#' has an RLE segmentation with size [2] and counts of type string; expected " +
          '{counts: a list of run lengths or a compressed string, size: [height, width]}.',
      ],
      [
        [{ id: 10, image_id: 1, segmentation: { counts: [4], size: [2, 2] } }],
        "Annotation 10 in '#' has an RLE segmentation with no pixel set; expected a non-empty mask.",
      ],
      [
        [{ id: 11, image_id: 1, segmentation: { counts: '3\u007f', size: [2, 2] } }],
        "Annotation 11 in '#' has a compressed RLE string that is cut short or holds other characters.",
      ],
    ];
    for (const [annotations, message] of cases) {
      const path = await file('regions.json', coco(annotations));
      expect(await rejection(readRegions(path))).toBe(message.replace('#', path));
    }
  });

  it('an RLE whose size is not its image size', async () => {
    const path = await file(
      'regions.json',
      coco(
        [{ id: 2, image_id: 1, segmentation: { counts: [1, 3], size: [2, 2] } }],
        [{ id: 1, file_name: 'dog.jpg', width: 768, height: 576 }],
      ),
    );
    expect(await rejection(readRegions(path))).toBe(
      `Annotation 2 in '${path}' has an RLE segmentation of size [2, 2] (height, width), but its image ` +
        "'dog.jpg' is 768×576; expected the image's size.",
    );
  });

  it('an RLE larger than any image the audit decodes is refused at once (a 100-byte file, no hang)', async () => {
    // Before: a 1 × 4,000,000,000 mask, one run of ones, was walked column by column (minutes).
    const path = await file(
      'regions.json',
      coco([{ id: 3, image_id: 1, segmentation: { counts: [0, 4e9], size: [1, 4e9] } }]),
    );
    const started = Date.now();
    const message = await rejection(readRegions(path));
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(message).toBe(
      `Annotation 3 in '${path}' has an RLE segmentation of size [1, 4000000000] (height, width), ` +
        '4,000,000,000 pixels; expected at most 50,000,000, the largest image the audit decodes.',
    );
  });

  it('an RLE of more than 4,000,000 runs is refused before it becomes millions of boxes', async () => {
    // A checkerboard 50-megapixel mask (a file of about 75 MB) would make 25 million boxes: about 2 GB, estimated.
    const runs = new Array<number>(4_000_002).fill(1);
    const path = await file(
      'regions.json',
      coco([{ id: 4, image_id: 1, segmentation: { counts: runs, size: [2, 2_000_001] } }]),
    );
    expect(await rejection(readRegions(path))).toBe(
      `Annotation 4 in '${path}' has an RLE segmentation of 4,000,002 runs; expected at most 4,000,000, ` +
        'more than any real mask of the largest image the audit decodes.',
    );
  });

  it('files that are not COCO', async () => {
    const broken = await file('regions.json', '{"images": [');
    expect(await rejection(readRegions(broken))).toMatch(
      new RegExp(
        `^'${escapeRegExp(broken)}' does not parse as JSON \\(.+\\); expected a COCO annotations file\\.$`,
      ),
    );
    const other = await file('regions.json', '{"boxes": []}');
    expect(await rejection(readRegions(other))).toBe(
      `'${other}' is JSON but not COCO; expected an object with the lists 'images' and 'annotations'.`,
    );
    const twice = await file(
      'regions.json',
      coco(
        [],
        [
          { id: 1, file_name: 'dog.jpg' },
          { id: 2, file_name: 'dog.jpg' },
        ],
      ),
    );
    expect(await rejection(readRegions(twice))).toBe(
      `The file_name 'dog.jpg' appears twice in '${twice}'; expected one entry per image.`,
    );
    const noName = await file('regions.json', coco([], [{ id: 1 }]));
    expect(await rejection(readRegions(noName))).toBe(
      `Image 1 in '${noName}' has file_name nothing; expected the image's file name.`,
    );
  });
});

describe('readRegions: Pascal VOC', () => {
  it('several objects; a float corner; an image without objects is left out', async () => {
    const a = await file(
      'a.xml',
      voc(
        '<object><name>dog</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>10</xmax><ymax>5</ymax></bndbox></object>' +
          '<object><name>cat</name><bndbox><xmin>3.5</xmin><ymin>2</ymin><xmax>4.5</xmax><ymax>2</ymax></bndbox></object>',
      ),
    );
    expect((await readRegions(a)).get('dog.jpg')!.shapes).toEqual([
      { type: 'box', x: 0, y: 0, width: 10, height: 5 },
      { type: 'box', x: 2.5, y: 1, width: 2, height: 1 },
    ]);
    const empty = await file('empty.xml', voc(''));
    expect(await readRegions(empty)).toEqual(new Map());
  });

  it('a folder of VOC files, searched recursively', async () => {
    const folder = join(dir, 'voc-folder');
    await mkdir(join(folder, 'sub'), { recursive: true });
    const box = '<object><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>2</xmax><ymax>2</ymax></bndbox></object>';
    await writeFile(join(folder, 'a.xml'), voc(box, '<filename>a.jpg</filename>'));
    await writeFile(join(folder, 'sub', 'b.xml'), voc(box, '<filename>b.jpg</filename>'));
    await writeFile(join(folder, 'notes.txt'), 'not an annotation');
    const index = await readRegions(folder);
    expect([...index.keys()]).toEqual(['a.jpg', 'b.jpg']);
    expect(index.get('b.jpg')!.source).toBe(join(folder, 'sub', 'b.xml'));

    await writeFile(join(folder, 'sub', 'c.xml'), voc(box, '<filename>a.jpg</filename>'));
    expect(await rejection(readRegions(folder))).toBe(
      `'${join(folder, 'a.xml')}' and '${join(folder, 'sub', 'c.xml')}' both annotate 'a.jpg'; expected one ` +
        'VOC file per image.',
    );
  });

  it('malformed VOC, naming the file and the object', async () => {
    const cases: [string, string][] = [
      ['<annotation><filename>dog.jpg</annotation>', 'is not well-formed XML (line 1, column 30: '],
      ['<root/>', 'has no <annotation> element; expected a Pascal VOC annotation file.'],
      [voc('', ''), "has no <filename>; expected the image's file name there, as VOC writes it."],
    ];
    for (const [text, message] of cases) {
      const path = await file('dog.xml', text);
      expect(await rejection(readRegions(path))).toContain(`'${path}' ${message}`);
    }
    const objects: [string, string][] = [
      [
        '<object><name>dog</name></object>',
        "Object 1 ('dog') in '#' has no <bndbox>; expected <bndbox> with <xmin>, <ymin>, <xmax>, <ymax>.",
      ],
      [
        '<object><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>2</xmax><ymax>2</ymax></bndbox></object>' +
          '<object><name>cat</name><bndbox><xmin>a</xmin><ymin>1</ymin><xmax>2</xmax><ymax>2</ymax></bndbox></object>',
        "Object 2 ('cat') in '#' has <xmin> \"a\"; expected a number there (VOC corners are 1-based pixel indices).",
      ],
      [
        '<object><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>2</xmax></bndbox></object>',
        "Object 1 in '#' has no <ymax>; expected a number there (VOC corners are 1-based pixel indices).",
      ],
      [
        '<object><name>dog</name><bndbox><xmin>300</xmin><ymin>1</ymin><xmax>200</xmax><ymax>2</ymax></bndbox></object>',
        "Object 1 ('dog') in '#' has <bndbox> xmin 300, ymin 1, xmax 200, ymax 2; expected xmin ≤ xmax and " +
          'ymin ≤ ymax (VOC corners are 1-based and inclusive).',
      ],
    ];
    for (const [body, message] of objects) {
      const path = await file('dog.xml', voc(body));
      expect(await rejection(readRegions(path))).toBe(message.replace('#', path));
    }
  });
});

describe('readRegions: CSV', () => {
  it('corners xmin, ymin, xmax, ymax (0-based edges), several rows per file, extra columns ignored', async () => {
    const path = await file(
      'boxes.csv',
      '\uFEFFlabel, file ,xmin,ymin,xmax,ymax\ndog,dog.jpg,128,222,316,540\n\ntruck,dog.jpg,466,74,694,170\n' +
        'x,"a, b.jpg",0,0,1.5,1\n',
    );
    expect(await readRegions(path)).toEqual(
      new Map([
        [
          'dog.jpg',
          {
            shapes: [DOG, { type: 'box', x: 466, y: 74, width: 228, height: 96 }],
            source: path,
          },
        ],
        ['a, b.jpg', { shapes: [{ type: 'box', x: 0, y: 0, width: 1.5, height: 1 }], source: path }],
      ]),
    );
  });

  it('malformed CSV, naming the line', async () => {
    const cases: [string, string][] = [
      ['', "The regions file '#' is empty; expected a header row and then data."],
      [
        'image,x,y,width,height\n',
        "The header of '#' is 'image,x,y,width,height', with no 'file' column; expected the columns " +
          'file,x,y,width,height or file,xmin,ymin,xmax,ymax (in any order; other columns are ignored).',
      ],
      [
        'file,x,y,w,h\n',
        "The header of '#' is 'file,x,y,w,h', with no complete set of box columns; expected",
      ],
      [
        'file,x,y,width,height,xmin,ymin,xmax,ymax\n',
        'with both x, y, width, height and xmin, ymin, xmax, ymax; expected',
      ],
      [
        'file,x,y,width,height\ndog.jpg,10,20,-5,8\n',
        "Line 2 of '#' has the box [10, 20, -5, 8] for 'dog.jpg'; expected [x, y, width, height] with width, " +
          'height > 0.',
      ],
      [
        'file,xmin,ymin,xmax,ymax\n\ndog.jpg,10,20,5,30\n',
        "Line 3 of '#' has the corners [10, 20, 5, 30] for 'dog.jpg'; expected [xmin, ymin, xmax, ymax] with " +
          'xmin < xmax and ymin < ymax.',
      ],
      [
        'file,x,y,width,height\ndog.jpg,10,,5,8\n',
        "Line 2 of '#' has y \"\" for 'dog.jpg'; expected a number.",
      ],
      [
        'file,x,y,width,height\n,1,2,3,4\n',
        "Line 2 of '#' has no file name; expected the image's file name.",
      ],
      [
        'file,x,y,width,height\ndog.jpg,1,2,3\n',
        "The regions file '#' is not valid CSV: Invalid Record Length: expect 5, got 4 on line 2.",
      ],
    ];
    for (const [text, message] of cases) {
      const path = await file('boxes.csv', text);
      expect(await rejection(readRegions(path))).toContain(message.replace('#', path));
    }
  });
});

describe('readRegions: paths', () => {
  it('a missing path is IO; an unknown extension or an empty folder is REGIONS', async () => {
    expect(await rejection(readRegions(join(dir, 'nope.json')), 'IO')).toBe(
      `Cannot read the regions file or folder '${join(dir, 'nope.json')}': no such file or folder.`,
    );
  });

  it('a FIFO or a device as the regions file or a mask is refused at once, not waited on or read', async () => {
    // Before: readFile waited on the FIFO for a writer forever, and read /dev/zero until memory ran out.
    const fifo = join(await mkdtemp(join(dir, 'fifo-')), 'regions.json');
    execFileSync('mkfifo', [fifo]);
    const started = Date.now();
    expect(await rejection(readRegions(fifo), 'IO')).toBe(
      `Cannot read the regions file '${fifo}': it is a FIFO (named pipe), not a regular file; expected a regular text file.`,
    );
    expect(await rejection(readMask(fifo, 8, 6), 'IO')).toBe(
      `Cannot read the mask '${fifo}': it is a FIFO (named pipe), not a regular file; expected a mask PNG.`,
    );
    expect(await rejection(readMask('/dev/zero', 8, 6), 'IO')).toBe(
      "Cannot read the mask '/dev/zero': it is a character device, not a regular file; expected a mask PNG.",
    );
    expect(Date.now() - started).toBeLessThan(10_000);
    const txt = await file('regions.txt', 'dog.jpg 1 2 3 4');
    expect(await rejection(readRegions(txt))).toBe(
      `'${txt}' is not a regions file Sightline reads; expected a COCO .json file, a Pascal VOC .xml file or a ` +
        'folder of them, a .csv file with columns file,x,y,width,height or file,xmin,ymin,xmax,ymax, or a ' +
        'folder of mask PNGs.',
    );
    const folder = join(dir, 'empty-folder');
    await mkdir(folder);
    expect(await rejection(readRegions(folder))).toBe(
      `The folder '${folder}' holds no .xml or .png files; expected Pascal VOC .xml files or mask PNGs.`,
    );
  });
});

/** 8×6 mask: columns 2–4 of rows 1–3 set. */
// biome-ignore format: the mask reads as its grid
const MASK_8x6 = [
  0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 1, 1, 1, 0, 0, 0,
  0, 0, 1, 1, 1, 0, 0, 0,
  0, 0, 1, 1, 1, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0,
];

async function greyPng(path: string, values: number[], width: number, height: number): Promise<void> {
  await sharp(Uint8Array.from(values), { raw: { width, height, channels: 1 } })
    .png()
    .toFile(path);
}

describe('mask PNGs', () => {
  let masks: string;
  beforeAll(async () => {
    masks = join(dir, 'masks');
    await mkdir(join(masks, 'animals'), { recursive: true });
    await greyPng(
      join(masks, 'dog.png'),
      MASK_8x6.map((v) => v * 255),
      8,
      6,
    );
    await greyPng(
      join(masks, 'animals', 'cat.png'),
      MASK_8x6.map((v) => v * 3),
      8,
      6,
    );
    await writeFile(join(masks, '.DS_Store'), '');
  });

  it('a folder of masks: one entry per PNG, with maskPath and no shapes', async () => {
    expect(await readRegions(masks)).toEqual(
      new Map([
        [
          'animals/cat.png',
          { shapes: [], maskPath: join(masks, 'animals/cat.png'), source: join(masks, 'animals/cat.png') },
        ],
        ['dog.png', { shapes: [], maskPath: join(masks, 'dog.png'), source: join(masks, 'dog.png') }],
      ]),
    );
  });

  it('readMask: 1 wherever the mask is not black, whatever the value', async () => {
    expect([...(await readMask(join(masks, 'dog.png'), 8, 6))]).toEqual(MASK_8x6);
    expect([...(await readMask(join(masks, 'animals', 'cat.png'), 8, 6))]).toEqual(MASK_8x6);
  });

  it('readMask: fully transparent pixels are outside whatever their colour; a dark colour counts', async () => {
    // Row 0 of a 2×2 RGBA mask: white but transparent, and (0, 0, 1) opaque; row 1: black opaque, red 50% alpha.
    const path = join(dir, 'rgba.png');
    const rgba = [255, 255, 255, 0, 0, 0, 1, 255, 0, 0, 0, 255, 255, 0, 0, 128];
    await sharp(Uint8Array.from(rgba), { raw: { width: 2, height: 2, channels: 4 } })
      .png()
      .toFile(path);
    expect([...(await readMask(path, 2, 2))]).toEqual([0, 1, 0, 1]);
  });

  it('readMask: a 16-bit mask keeps small label values', async () => {
    const path = join(dir, 'deep.png');
    await sharp(Uint16Array.from([0, 1, 0, 300]), { raw: { width: 2, height: 2, channels: 1 } })
      .toColourspace('grey16')
      .png()
      .toFile(path);
    expect([...(await readMask(path, 2, 2))]).toEqual([0, 1, 0, 1]);
  });

  it('readMask: a mask of another size, an empty mask, a file that is no image', async () => {
    expect(await rejection(readMask(join(masks, 'dog.png'), 768, 576))).toBe(
      `The mask '${join(masks, 'dog.png')}' is 8×6 but its image is 768×576; expected a mask the size of the image.`,
    );
    const black = join(dir, 'black.png');
    await greyPng(black, Array(48).fill(0), 8, 6);
    expect(await rejection(readMask(black, 8, 6))).toBe(
      `The mask '${black}' marks no pixel: every pixel is black or fully transparent; expected non-zero ` +
        'pixels where the model should look.',
    );
    const text = await file('dog.png', 'not a png');
    expect(await rejection(readMask(text, 8, 6))).toMatch(
      new RegExp(
        `^The mask '${escapeRegExp(text)}' is not an image Sightline can read \\(.+\\); expected a PNG`,
      ),
    );
    expect(await rejection(readMask(join(dir, 'none.png'), 8, 6), 'IO')).toBe(
      `Cannot read the mask '${join(dir, 'none.png')}': no such file or folder; expected a mask PNG.`,
    );
  });
});

describe('regionsFor', () => {
  const r = (source: string, maskPath?: string): ImageRegions => ({
    shapes: maskPath ? [] : [DOG],
    source,
    ...(maskPath ? { maskPath } : {}),
  });

  it('the relative path first, then a path that ends with the other at a folder boundary', () => {
    const index = new Map([
      ['animals/dog.jpg', r('exact')],
      ['dog.jpg', r('base')],
      ['val2017/cat.jpg', r('longer')],
    ]);
    expect(regionsFor(index, 'animals/dog.jpg')?.source).toBe('exact');
    expect(regionsFor(index, 'pets/dog.jpg')?.source).toBe('base');
    expect(regionsFor(index, 'cat.jpg')?.source).toBe('longer');
    expect(regionsFor(index, 'val2017/cat.jpg')?.source).toBe('longer');
    expect(regionsFor(index, 'cats/cat.jpg')).toBeUndefined();
    expect(regionsFor(index, 'hotdog.jpg')).toBeUndefined();
    expect(regionsFor(index, 'bird.jpg')).toBeUndefined();
  });

  it('masks match on the path without its extension', () => {
    const index = new Map([
      ['dog.png', r('m1', 'masks/dog.png')],
      ['animals/cat.png', r('m2', 'masks/animals/cat.png')],
    ]);
    expect(regionsFor(index, 'dog.jpg')?.maskPath).toBe('masks/dog.png');
    expect(regionsFor(index, 'a/dog.jpeg')?.maskPath).toBe('masks/dog.png');
    expect(regionsFor(index, 'animals/cat.webp')?.maskPath).toBe('masks/animals/cat.png');
    expect(regionsFor(index, 'cat.jpg')?.maskPath).toBe('masks/animals/cat.png');
    expect(regionsFor(index, 'dogs.jpg')).toBeUndefined();
  });

  it('ambiguous: several keys, or (given the folder) several files for one key', () => {
    const index = new Map([
      ['a/dog.jpg', r('regions.json')],
      ['b/dog.jpg', r('regions.json')],
      ['cat.jpg', r('regions.json')],
    ]);
    const several = thrown(() => regionsFor(index, 'dog.jpg'));
    expect(several.code).toBe('REGIONS');
    expect(several.message).toBe(
      "'dog.jpg' matches 2 images named in 'regions.json' ('a/dog.jpg', 'b/dog.jpg'); expected one. Name the " +
        'images there by their path relative to the audited folder.',
    );
    const files = ['x/cat.jpg', 'y/cat.jpg', 'a/dog.jpg'];
    expect(regionsFor(index, 'x/cat.jpg')?.source).toBe('regions.json');
    expect(thrown(() => regionsFor(index, 'x/cat.jpg', files)).message).toBe(
      "The regions for 'cat.jpg' in 'regions.json' could belong to 2 images of the folder ('x/cat.jpg', " +
        "'y/cat.jpg'); name the image there by its path relative to the audited folder.",
    );
    // A file with its own exact key does not compete for a shorter one.
    const both = new Map([
      ['a/dog.jpg', r('exact')],
      ['dog.jpg', r('base')],
    ]);
    expect(regionsFor(both, 'b/dog.jpg', ['a/dog.jpg', 'b/dog.jpg'])?.source).toBe('base');
  });
});

describe('checkShapes', () => {
  const regions = (shapes: RegionShape[]): ImageRegions => ({ shapes, source: 'regions.json' });

  it('shapes inside or partly inside the image pass', () => {
    checkShapes(regions([DOG, TRUCK, { type: 'box', x: 700, y: 500, width: 500, height: 500 }]), 768, 576);
    checkShapes({ shapes: [], maskPath: 'dog.png', source: 'dog.png' }, 768, 576);
  });

  it('a box or polygon outside the image, naming the image, the file and the size', () => {
    const outside = thrown(() =>
      checkShapes(regions([DOG, { type: 'box', x: 900, y: 10, width: 50, height: 50 }]), 768, 576, 'dog.jpg'),
    );
    expect(outside.code).toBe('REGIONS');
    expect(outside.message).toBe(
      "The box [900, 10, 50, 50] for 'dog.jpg' in 'regions.json' lies outside the 768×576 image.",
    );
    expect(outside.details).toMatchObject({ file: 'dog.jpg', reason: 'outside', width: 768, height: 576 });
    expect(
      thrown(() =>
        checkShapes(regions([{ type: 'polygon', points: [-10, 0, -1, 0, -5, 600] }]), 768, 576, 'dog.jpg'),
      ).message,
    ).toBe(
      "The polygon [-10, 0, -1, 0, -5, 600] for 'dog.jpg' in 'regions.json' lies outside the 768×576 image.",
    );
    expect(
      thrown(() => checkShapes(regions([{ type: 'box', x: 0, y: -60, width: 10, height: 60 }]), 768, 576))
        .message,
    ).toBe("The box [0, -60, 10, 60] in 'regions.json' lies outside the 768×576 image.");
  });

  it('a shape inside the image that covers no pixel centre', () => {
    expect(
      thrown(() =>
        checkShapes(regions([{ type: 'box', x: 10.6, y: 10, width: 0.5, height: 4 }]), 768, 576, 'dog.jpg'),
      ).message,
    ).toBe(
      "The box [10.6, 10, 0.5, 4] for 'dog.jpg' in 'regions.json' covers no pixel centre of the 768×576 image, " +
        'so it marks nothing; expected a box that covers the centre of at least one pixel.',
    );
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
