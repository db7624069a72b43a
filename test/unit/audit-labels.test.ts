import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labelsFromFolders, readLabelCsv } from '../../src/audit/labels.js';
import { SightlineError } from '../../src/core/errors.js';
import { defaultModelFiles } from '../../src/models/default-model.js';
import { resolveLabel } from '../../src/models/label-match.js';
import { parseLabels } from '../../src/models/labels.js';
import { thrown } from '../helpers/errors.js';

/** A model from anywhere: 1,000 labels of 20,000 characters, and one of 100. */
const LABELS_OF_MODEL_FROM_ANYWHERE = Array.from({ length: 1000 }, (_, i) =>
  i === 1 ? 'b'.repeat(100) : `${i}${'z'.repeat(20_000)}`,
);

/** The default model's 1001 ImageNet labels (index 0 is the background class). */
const IMAGENET = parseLabels(readFileSync(defaultModelFiles().labels, 'utf8'));

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sightline-labels-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function rejection(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SightlineError);
  expect((error as SightlineError).code).toBe('IO');
  return (error as SightlineError).message;
}

describe('labelsFromFolders', () => {
  it("each file's first folder; files in the root get none", () => {
    expect(
      labelsFromFolders(['golden_retriever/1.jpg', 'tabby/indoor/2.png', 'loose.jpg', 'tabby/3.jpg']),
    ).toEqual(
      new Map([
        ['golden_retriever/1.jpg', 'golden_retriever'],
        ['tabby/indoor/2.png', 'tabby'],
        ['tabby/3.jpg', 'tabby'],
      ]),
    );
  });
});

describe('readLabelCsv', () => {
  it('file and label columns in any order, quoted fields, extra columns ignored', async () => {
    const path = join(dir, 'labels.csv');
    await writeFile(
      path,
      'label,notes,file\ngolden retriever,,dogs/1.jpg\n"tabby, tabby cat",indoor,.\\cats\\2.jpg\n' +
        'golden retriever,again,dogs/1.jpg\n',
    );
    expect(await readLabelCsv(path)).toEqual(
      new Map([
        ['dogs/1.jpg', 'golden retriever'],
        ['cats/2.jpg', 'tabby, tabby cat'],
      ]),
    );
  });

  it('a wrong header, a missing label, two labels for one file', async () => {
    const cases: [string, string][] = [
      [
        'image,class\n',
        "The header of the labels file '#' is 'image,class'; expected the columns file,label (in any order; " +
          'other columns are ignored).',
      ],
      [
        'file,label\ndog.jpg,\n',
        "Line 2 of the labels file '#' has no label for 'dog.jpg'; expected a file name and its label.",
      ],
      [
        'file,label\ndog.jpg,dog\ndog.jpg,cat\n',
        "The labels file '#' gives 'dog.jpg' two labels, 'dog' and 'cat' (line 3); expected one label per image.",
      ],
      ['', "The labels file '#' is empty; expected a header row and then data."],
    ];
    for (const [text, message] of cases) {
      const path = join(dir, 'bad.csv');
      await writeFile(path, text);
      expect(await rejection(readLabelCsv(path))).toBe(message.replace('#', path));
    }
    expect(await rejection(readLabelCsv(join(dir, 'none.csv')))).toBe(
      `Cannot read the labels file '${join(dir, 'none.csv')}': no such file or folder; expected a regular text file.`,
    );
    // Before: /dev/zero as the labels file was read until memory ran out.
    expect(await rejection(readLabelCsv('/dev/zero'))).toBe(
      "Cannot read the labels file '/dev/zero': it is a character device, not a regular file; expected a regular text file.",
    );
  });
});

describe('resolveLabel', () => {
  const LABELS = ['cat', 'Dog', 'dog house', 'hot-dog', 'golden retriever', 'Labrador retriever', '7'];

  it('exact, then a class index, then ignoring case, then underscores and hyphens as spaces, then a part', () => {
    expect(resolveLabel('Dog', LABELS)).toEqual({ text: 'Dog', index: 1 });
    expect(resolveLabel(' 2 ', LABELS)).toEqual({ text: '2', index: 2 });
    expect(resolveLabel('7', LABELS)).toEqual({ text: '7', index: 6 }); // the label "7" beats index 7
    expect(resolveLabel('0', LABELS)).toEqual({ text: '0', index: 0 });
    expect(resolveLabel('dog', LABELS)).toEqual({ text: 'dog', index: 1 });
    expect(resolveLabel('golden_retriever', LABELS)).toEqual({ text: 'golden_retriever', index: 4 });
    expect(resolveLabel('Hot_Dog', LABELS)).toEqual({ text: 'Hot_Dog', index: 3 });
    expect(resolveLabel('labrador', LABELS)).toEqual({ text: 'labrador', index: 5 });
    expect(resolveLabel('house', LABELS)).toEqual({ text: 'house', index: 2 });
  });

  it('ImageNet folder names against the default model', () => {
    expect(IMAGENET[208]).toBe('golden retriever');
    expect(resolveLabel('golden_retriever', IMAGENET).index).toBe(208);
    expect(resolveLabel('flat-coated_retriever', IMAGENET).index).toBe(206);
    expect(resolveLabel('Labrador_retriever', IMAGENET).index).toBe(209);
    expect(resolveLabel('tabby', IMAGENET).index).toBe(IMAGENET.indexOf('tabby'));
  });

  it('ambiguous: a label the model has twice, or a part of several labels', () => {
    const crane = thrown(() => resolveLabel('crane', IMAGENET));
    expect(crane.code).toBe('UNKNOWN_TARGET');
    expect(crane.message).toBe(
      "Label 'crane' is ambiguous: it matches 2 labels of the model, 'crane' (135), 'crane' (518); give the " +
        'full label or the class index.',
    );
    expect(thrown(() => resolveLabel('retriever', IMAGENET)).message).toBe(
      "Label 'retriever' is ambiguous: it matches 5 labels of the model, 'flat-coated retriever' (206), " +
        "'curly-coated retriever' (207), 'golden retriever' (208), 'Labrador retriever' (209), 'Chesapeake Bay " +
        "retriever' (210); give the full label or the class index.",
    );
    expect(thrown(() => resolveLabel('cat', IMAGENET)).message).toMatch(
      /^Label 'cat' is ambiguous: it matches \d+ labels of the model, (.+ \(\d+\), ){4}.+ \(\d+\), …; give/,
    );
  });

  it('unknown: the closest labels, or none', () => {
    const unknown = thrown(() => resolveLabel('golden_retreiver', IMAGENET));
    expect(unknown.code).toBe('UNKNOWN_TARGET');
    expect(unknown.message).toBe(
      "Label 'golden_retreiver' is not a label of the model (the closest is 'golden retriever' (208)); " +
        'expected a label of the model or a class index.',
    );
    expect(thrown(() => resolveLabel('cot', LABELS)).message).toBe(
      "Label 'cot' is not a label of the model (the closest are 'cat' (0), 'Dog' (1)); expected a label of " +
        'the model or a class index.',
    );
    expect(thrown(() => resolveLabel('spaceship', LABELS)).message).toBe(
      "Label 'spaceship' is not a label of the model (no label is close to it); expected a label of the model " +
        'or a class index.',
    );
  });

  it('a hostile label (a CSV cell of 20,000 characters) is refused in bounded time with a bounded message', () => {
    // Before: the closest-label search compared it letter by letter with every label (about a minute).
    const long = LABELS_OF_MODEL_FROM_ANYWHERE;
    const started = Date.now();
    const refused = thrown(() => resolveLabel('q'.repeat(20_000), IMAGENET));
    const againstLong = thrown(() => resolveLabel('a'.repeat(150), long));
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(refused.code).toBe('UNKNOWN_TARGET');
    expect(refused.message).toMatch(
      /^Label 'q{200} … \(cut: 20,000 characters in all\)' is not a label of the model \(no label is close to it\)/,
    );
    expect(refused.message.length).toBeLessThan(400);
    expect(againstLong.message).toContain('(no label is close to it)');
    // A long label still finds its near miss.
    expect(thrown(() => resolveLabel(`${'b'.repeat(98)}x`, long)).message).toContain(
      `'${'b'.repeat(100)}' (1)`,
    );
  });

  it('a class index out of range; a model without labels takes any index', () => {
    expect(thrown(() => resolveLabel('1001', IMAGENET)).message).toBe(
      "Label '1001' reads as a class index, but the model has 1001 classes (0 to 1000).",
    );
    expect(resolveLabel('12', [])).toEqual({ text: '12', index: 12 });
    expect(thrown(() => resolveLabel('dog', [])).message).toBe(
      "Label 'dog' cannot be matched: the model has no labels; expected a label of the model or a class index.",
    );
    expect(thrown(() => resolveLabel('  ', LABELS)).message).toBe(
      "Label '' cannot be matched: it is empty; expected a label of the model or a class index.",
    );
  });
});
