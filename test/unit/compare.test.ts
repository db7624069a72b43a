// compare's library on audit folders written by the test: hostile and broken files refused with the file, the
// line and what was wrong, within bounded time; shortcut flags from the rows; settings warned about.
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareAudits, compareFolders, readAudit, shortcutFlags } from '../../src/audit/compare/index.js';
import type { ShortcutRowPart } from '../../src/audit/shortcut-types.js';
import { SightlineError } from '../../src/core/errors.js';

let dir: string;
let n = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sightline-compare-unit-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const CONFIG = { model: 'm.onnx', method: 'gradient', options: {}, labels: 'folders', regions: 'r.json' };

/** A classifier's row: top prediction, label, verdict from the share. */
function row(file: string, top: string, label: string, share: number, extra: Record<string, unknown> = {}) {
  const verdict = share >= 0.5 ? 'object' : share >= 0.2 ? 'partly' : 'background';
  return {
    file,
    status: 'ok',
    predictions: [{ index: top === 'dog' ? 0 : 1, label: top, score: 0.9 }],
    label: { text: label, index: label === 'dog' ? 0 : 1 },
    correct: top === label,
    target: { index: 0, label },
    region: {
      share,
      areaShare: 0.0625,
      concentration: share / 0.0625,
      peakInside: share >= 0.5,
      tolerance: 15,
      verdict,
    },
    ...extra,
  };
}

async function audit(rows: unknown[] | string, config: unknown = CONFIG): Promise<string> {
  const folder = join(dir, `audit${n++}`);
  await mkdir(folder);
  const text = typeof rows === 'string' ? rows : rows.map((r) => `${JSON.stringify(r)}\n`).join('');
  await writeFile(join(folder, 'results.jsonl'), text);
  await writeFile(join(folder, 'summary.json'), JSON.stringify({ config, summary: {} }));
  return folder;
}

async function refusal(run: () => Promise<unknown>): Promise<SightlineError> {
  const error = await run().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SightlineError);
  return error as SightlineError;
}

const GOOD = [row('a.png', 'dog', 'dog', 0.9)];

describe('compare refuses broken audit folders', () => {
  it('a missing results.jsonl, and says an audit with only a journal did not finish', async () => {
    const folder = await audit(GOOD);
    await rm(join(folder, 'results.jsonl'));
    const missing = await refusal(() => readAudit(folder));
    expect(missing.code).toBe('IO');
    expect(missing.message).toContain(`'${join(folder, 'results.jsonl')}'`);
    expect(missing.message).toContain('no such file');
    await writeFile(join(folder, 'journal.jsonl'), '{"format":"sightline-audit-journal"}\n');
    const unfinished = await refusal(() => readAudit(folder));
    expect(unfinished.message).toContain('has no results.jsonl yet, only its journal: it did not finish');
    const none = await refusal(() => readAudit(join(dir, 'nowhere')));
    expect(none.message).toContain("Cannot read the audit folder '");
  });

  it('a results.jsonl cut short, mid-file or at its end', async () => {
    const whole = GOOD.map((r) => JSON.stringify(r)).join('\n');
    const end = await refusal(async () => readAudit(await audit(`${whole}\n${whole.slice(0, 40)}`)));
    expect(end.code).toBe('IO');
    expect(end.message).toContain('its last line has no line feed, so the file was cut short');
    const second = row('b.png', 'dog', 'dog', 0.9);
    const mid = await refusal(async () =>
      readAudit(await audit(`${whole}\n${JSON.stringify(second).slice(0, 50)}\n${whole}\n`)),
    );
    expect(mid.message).toContain('(line 2) is not what');
    expect(mid.message).toContain('the line is not JSON');
  });

  it('a huge line, without parsing it, in bounded time', async () => {
    const huge = `{"file":"a.png","status":"ok","x":"${'x'.repeat(1_200_000)}"}\n`;
    const started = Date.now();
    const error = await refusal(async () => readAudit(await audit(huge)));
    expect(error.message).toContain('(line 1)');
    expect(error.message).toContain('1,200,037 characters, over 1,000,000');
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('lines that are not rows, and an image with two rows', async () => {
    const badStatus = await refusal(async () =>
      readAudit(await audit([...GOOD, { file: 'b.png', status: 'maybe' }])),
    );
    expect(badStatus.message).toContain("(line 2) is not what 'sightline audit' writes");
    expect(badStatus.message).toContain("'status' is not 'ok' or 'error'");
    const badShare = await refusal(async () => readAudit(await audit([row('b.png', 'dog', 'dog', 7)])));
    expect(badShare.message).toContain("'region.share' is not a finite number in [0, 1]");
    const twice = await refusal(async () => readAudit(await audit([...GOOD, ...GOOD])));
    expect(twice.message).toContain('(line 2)');
    expect(twice.message).toContain("the image 'a.png' has a second row");
  });

  it('a summary.json that is not JSON or has no settings, and text that is not UTF-8', async () => {
    const folder = await audit(GOOD);
    await writeFile(join(folder, 'summary.json'), '{"config": {"model": "m"');
    expect((await refusal(() => readAudit(folder))).message).toContain(
      'it is not JSON (cut short, or another file)',
    );
    await writeFile(join(folder, 'summary.json'), '{"summary": {}}');
    expect((await refusal(() => readAudit(folder))).message).toContain("it has no 'config' object");
    await writeFile(join(folder, 'summary.json'), JSON.stringify({ config: { ...CONFIG, method: 5 } }));
    expect((await refusal(() => readAudit(folder))).message).toContain("'config.method' is not a text");
    const latin = await audit(GOOD);
    await writeFile(join(latin, 'results.jsonl'), Buffer.from([0x7b, 0xe9, 0x7d, 0x0a]));
    expect((await refusal(() => readAudit(latin))).message).toContain('it is not UTF-8 text');
  });

  it('a FIFO in place of results.jsonl, without waiting for a writer', async () => {
    const folder = await audit(GOOD);
    await rm(join(folder, 'results.jsonl'));
    execFileSync('mkfifo', [join(folder, 'results.jsonl')]);
    const error = await refusal(() => readAudit(folder));
    expect(error.code).toBe('IO');
    expect(error.message).toContain('FIFO');
  });

  it("a detector's audit beside a classifier's, audits with no image in common, and writing into an audit", async () => {
    const classifier = await readAudit(await audit(GOOD));
    const detector = await readAudit(
      await audit([
        {
          file: 'a.png',
          status: 'ok',
          task: 'detect',
          detect: { objects: 0, explained: 0, detections: [], misses: [] },
        },
      ]),
    );
    const kinds = await refusal(async () => compareAudits(classifier, detector));
    expect(kinds.code).toBe('INVALID_ARGUMENT');
    expect(kinds.message).toContain(`The audit in '${detector.folder}' is a detector's`);
    const other = await readAudit(await audit([row('z.png', 'dog', 'dog', 0.9)]));
    const apart = await refusal(async () => compareAudits(classifier, other));
    expect(apart.message).toContain('have no image in common');
    expect(apart.message).toContain("e.g. 'z.png'");
    const into = await refusal(() => compareFolders(classifier.folder, other.folder, classifier.folder));
    expect(into.code).toBe('INVALID_ARGUMENT');
    expect(into.message).toContain('its report.html would be replaced');
  });
});

describe('compare on rows it can read', () => {
  it('reads shortcut flags from the rows, and counts a new flag as worse', async () => {
    const words = "still predicts 'dog' with the object removed";
    /** A row's shortcut tests as `audit --shortcuts` writes them, flagged or not. */
    const tests = (flags: string[]) => ({
      target: { index: 0, label: 'dog' },
      variants: {},
      partners: {},
      reliesOnContext: flags.length > 0,
      fragile: false,
      flags,
    });
    expect(shortcutFlags(undefined)).toBeUndefined();
    expect(shortcutFlags(tests([]) as ShortcutRowPart)).toEqual([]);
    expect(shortcutFlags(tests(['z', words, 'z']) as ShortcutRowPart)).toEqual([words, 'z']);
    const context = tests([words]);
    const a = await audit([
      row('a.png', 'dog', 'dog', 0.9, { shortcuts: tests([]) }),
      row('b.png', 'dog', 'dog', 0.9, { shortcuts: context }),
      row('c.png', 'dog', 'dog', 0.9),
    ]);
    const b = await audit([
      row('a.png', 'dog', 'dog', 0.9, { shortcuts: context }),
      row('b.png', 'dog', 'dog', 0.9, { shortcuts: tests([]) }),
      row('c.png', 'dog', 'dog', 0.9, { shortcuts: context }),
    ]);
    const out = join(dir, 'flags-out');
    const c = await compareFolders(a, b, out);
    expect(c.images.map((i) => [i.file, i.change, i.worse, i.better])).toEqual([
      ['a.png', 'worse', [`new flag: ${words}`], []],
      // An audit without --shortcuts says nothing about flags: no change.
      ['c.png', 'same', [], []],
      ['b.png', 'better', [], [`flag gone: ${words}`]],
    ]);
    expect([c.numbers.a.flagged, c.numbers.b.flagged]).toEqual([1, 2]);
    const csv = await readFile(join(out, 'compare.csv'), 'utf8');
    expect(csv).toContain(`a.png,worse,new flag: ${words},,`);
    expect(csv).toContain(`,${words},,,\r\n`);
  });

  it('orders worse first by weight, and warns in words when the settings differ', async () => {
    const a = await audit([
      row('same.png', 'dog', 'dog', 0.9),
      row('share.png', 'dog', 'dog', 0.95),
      row('broken.png', 'dog', 'dog', 0.9),
      row('fixed.png', 'cat', 'dog', 0.1),
      row('relabelled.png', 'dog', 'dog', 0.9),
    ]);
    const b = await audit(
      [
        row('same.png', 'dog', 'dog', 0.9),
        row('share.png', 'dog', 'dog', 0.8),
        row('broken.png', 'cat', 'dog', 0.3),
        row('fixed.png', 'dog', 'dog', 0.9),
        row('relabelled.png', 'dog', 'cat', 0.9),
        row('new.png', 'dog', 'dog', 0.9),
      ],
      { ...CONFIG, method: 'grad-cam', labels: 'other.csv' },
    );
    const c = compareAudits(await readAudit(a), await readAudit(b));
    expect(c.images.map((i) => [i.file, i.change, i.weight])).toEqual([
      // right → wrong (4), object → partly (2), share −60 points (1)
      ['broken.png', 'worse', 7],
      ['relabelled.png', 'worse', 4],
      ['share.png', 'worse', 1],
      ['same.png', 'same', 0],
      // wrong → right (4), background → object (two steps, 4), share +80 points (1)
      ['fixed.png', 'better', -9],
    ]);
    expect(c.images[2].worse).toEqual(['share inside 95% → 80%']);
    expect(c.onlyB).toEqual(['new.png']);
    expect(c.warnings).toEqual([
      "The audits used different methods (A 'gradient', B 'grad-cam'): shares and verdicts measure different kinds of map, so a change may come from the method rather than the model.",
      "1 of 5 images have different labels in the two audits (labels files A 'folders', B 'other.csv'): their correctness is judged against different answers.",
    ]);
  });

  it('warns when the options, the task or the regions differ', async () => {
    const a = await audit([row('a.png', 'dog', 'dog', 0.9), row('b.png', 'dog', 'dog', 0.9)], {
      ...CONFIG,
      options: { steps: 8 },
    });
    const wider = row('b.png', 'dog', 'dog', 0.9);
    const b = await audit(
      [
        { ...row('a.png', 'dog', 'dog', 0.9), task: 'multilabel' },
        { ...wider, region: { ...wider.region, areaShare: 0.25 } },
      ],
      { ...CONFIG, options: { steps: 16 } },
    );
    const c = compareAudits(await readAudit(a), await readAudit(b));
    expect(c.warnings).toEqual([
      "The audits ran 'gradient' with different options (A: steps=8; B: steps=16): maps and shares may differ for that reason alone.",
      'The models do different tasks (A: classify; B: classify, multilabel): their predictions and scores do not read the same way.',
      "1 of 2 images have different regions (or a region in one audit only; regions files A 'r.json', B 'r.json'): their shares inside are measured against different areas.",
    ]);
  });

  it('escapes file names in the report and guards the CSV against formulas', async () => {
    const name = '<img src=x onerror=alert(1)>=1+1.png';
    const a = await audit([row(name, 'dog', 'dog', 0.9), row('=cmd|calc.png', 'dog', 'dog', 0.9)]);
    const b = await audit([row(name, 'cat', 'dog', 0.9), row('=cmd|calc.png', 'dog', 'dog', 0.9)]);
    const out = join(dir, 'escape-out');
    await compareFolders(a, b, out);
    const html = await readFile(join(out, 'report.html'), 'utf8');
    expect(html).not.toContain('<img src=x');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;=1+1.png');
    const csv = await readFile(join(out, 'compare.csv'), 'utf8');
    expect(csv).toContain("\r\n'=cmd|calc.png,same,");
  });
});
