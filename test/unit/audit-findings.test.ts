// The findings' logic on rows made here: where a map's attention sits, each finder's count equal to the rows it
// names, the thresholds, and the section and CSV they are written into (escaped, guarded).
import { describe, expect, it } from 'vitest';
import { summarize } from '../../src/audit/aggregate.js';
import { auditFindings, type Finding, placeOf } from '../../src/audit/findings.js';
import { FINDING_FILES_SHOWN, findingsSection, needsAttentionCsv } from '../../src/audit/report/findings.js';
import { type AuditRow, SUMMARY_GRID } from '../../src/audit/types.js';
import { findingsLines } from '../../src/cli/audit-findings.js';

const G = SUMMARY_GRID;

/** A summary map with all its attention in the cell (x, y) of the grid. */
function spot(x: number, y: number): number[] {
  const map = new Array<number>(G * G).fill(0);
  map[y * G + x] = 1;
  return map;
}

function row(file: string, part: Partial<AuditRow> = {}): AuditRow {
  return { file, status: 'ok', width: 64, height: 64, ...part };
}

function region(verdict: 'object' | 'partly' | 'background', share = 0.1) {
  return { share, areaShare: 0.06, concentration: 1, peakInside: false, tolerance: 15, verdict };
}

function findingsOf(rows: AuditRow[]): Finding[] {
  return auditFindings(rows, summarize(rows));
}

describe('placeOf', () => {
  it('names the corner ninth, the border quarter, the centre, or nothing for a spread map', () => {
    expect(placeOf(spot(0, 0))).toEqual({
      kind: 'corner',
      where: 'top-left corner',
      share: 1,
      area: 121 / 1024,
    });
    expect(placeOf(spot(31, 0))?.where).toBe('top-right corner');
    expect(placeOf(spot(0, 31))?.where).toBe('bottom-left corner');
    expect(placeOf(spot(31, 31))?.where).toBe('bottom-right corner');
    // Cell 10's centre (10.5 / 32 = 0.328) is in the first third, cell 11's (0.359) is not.
    expect(placeOf(spot(10, 10))?.where).toBe('top-left corner');
    expect(placeOf(spot(11, 10))).toBeNull();
    // The border bands are the outer quarter: cell 7's centre (0.234) is in it, cell 8's (0.266) is not.
    expect(placeOf(spot(16, 7))?.where).toBe('top border');
    expect(placeOf(spot(16, 8))).toBeNull();
    expect(placeOf(spot(16, 31))).toEqual({ kind: 'border', where: 'bottom border', share: 1, area: 0.25 });
    expect(placeOf(spot(0, 16))?.where).toBe('left border');
    expect(placeOf(spot(16, 16))).toMatchObject({ kind: 'centre', where: 'centre' });
    expect(placeOf(new Array<number>(G * G).fill(1 / (G * G)))).toBeNull();
    expect(placeOf([1, 2, 3])).toBeNull();
    expect(placeOf(new Array<number>(G * G).fill(0))).toBeNull();
    // Half in a corner and half in the opposite one: each holds exactly PLACE_SHARE, the first found is kept.
    const split = spot(0, 0).map((v, i) => (v + spot(31, 31)[i]) / 2);
    expect(placeOf(split)).toMatchObject({ where: 'top-left corner', share: 0.5 });
  });
});

describe('auditFindings', () => {
  it('counts each finding from the rows it names, and skips a corner two images of thirty share', () => {
    const rows: AuditRow[] = [
      ...Array.from({ length: 28 }, (_, i) =>
        row(`ok${String(i).padStart(2, '0')}.png`, { summary: spot(16, 16), region: region('object', 0.8) }),
      ),
      row('corner-a.png', { summary: spot(31, 0), region: region('background') }),
      row('corner-b.png', { summary: spot(31, 0), region: region('background') }),
    ];
    const findings = findingsOf(rows);
    // 2 of 30 is under 10%: a coincidence, no corner finding; the background finding still counts them.
    expect(findings.map((f) => f.id)).toEqual(['background']);
    expect(findings[0]).toMatchObject({ count: 2, files: ['corner-a.png', 'corner-b.png'] });
    expect(findings[0].text).toMatch(
      /^2 of 30 images with a marked object: the model looks mostly at the background/,
    );

    // 4 of 32 is at least 10% (⌈3.2⌉ = 4); a row looking at its object in the corner is not counted.
    rows.push(
      row('corner-c.png', { summary: spot(30, 1), region: region('partly') }),
      row('corner-d.png', { summary: spot(29, 2).map((v, i) => 0.6 * v + 0.4 * spot(16, 16)[i]) }),
      row('corner-e.png', { summary: spot(31, 0), region: region('object', 0.9) }),
    );
    const more = findingsOf(rows);
    expect(more.map((f) => [f.id, f.count])).toEqual([
      ['background', 2],
      ['place-top-right-corner', 4],
    ]);
    expect(more[1].files).toEqual(['corner-a.png', 'corner-b.png', 'corner-c.png', 'corner-d.png']);
    expect(more[1].text).toBe(
      '4 of 33 images with a map: at least 50% of the attention (60% to 100%) is in the top-right corner (a ninth of the picture), not on the marked object.',
    );
  });

  it("names the border of the group most background images are in, from the group's mean map", () => {
    const rows: AuditRow[] = [
      ...['a', 'b', 'c'].map((n, i) =>
        row(`${n}.png`, { summary: spot(16, 31), region: region('background'), correct: i > 0 }),
      ),
      ...['d', 'e', 'f'].map((n) =>
        row(`${n}.png`, { summary: spot(16, 16), region: region('object', 0.9) }),
      ),
    ];
    const summary = summarize(rows, { clusters: 2 });
    const group = summary.clusters.findIndex((c) => c.members.includes('a.png')) + 1;
    const [background] = auditFindings(rows, summary);
    expect(background).toMatchObject({ id: 'background', count: 3, files: ['a.png', 'b.png', 'c.png'] });
    expect(background.text).toBe(
      `3 of 6 images with a marked object: the model looks mostly at the background (less than half of its attention on the object); its answer is right on 2 of the 3 labelled ones; 3 of them are in group ${group} (mean map: 100% of the attention in the bottom border (the outer quarter of the picture)).`,
    );
    expect(background.advice).toContain(`Look at the bottom border of group ${group}'s images`);
  });

  it('wrong where it looked at the object, no evidence, errors: counts equal the rows', () => {
    const rows: AuditRow[] = [
      row('a.png', { region: region('object', 0.9), correct: false, summary: spot(16, 16) }),
      row('b.png', { region: region('object', 0.9), correct: true, summary: spot(16, 16) }),
      row('c.png', { region: region('object', 0.9), correct: false, summary: spot(16, 16) }),
      row('d.png', { noEvidence: true, regionGiven: true }),
      { file: 'e.png', status: 'error', error: { code: 'IMAGE', message: 'not a picture' } },
    ];
    const findings = findingsOf(rows);
    expect(findings).toEqual([
      {
        id: 'wrong-on-object',
        text: 'Wrong on 2 of the 3 labelled images where the model looked at the object (its answer is not the label).',
        advice: expect.any(String),
        count: 2,
        files: ['a.png', 'c.png'],
      },
      expect.objectContaining({ id: 'no-evidence', count: 1, files: ['d.png'] }),
      expect.objectContaining({
        id: 'errors',
        count: 1,
        files: ['e.png'],
        text: '1 of 5 images could not be audited.',
      }),
    ]);
    expect(findingsOf([row('x.png', { region: region('object', 0.9), correct: true })])).toEqual([]);
  });

  it("a detector's false positives, maps outside their boxes and misses, counted per image", () => {
    const detection = (object: number | undefined, verdict: 'object' | 'background') => ({
      index: 0,
      label: 'dog',
      classIndex: 1,
      score: 0.9,
      box: [0, 0, 10, 10] as [number, number, number, number],
      object,
      verdict,
    });
    const miss = {
      object: 1,
      label: 'cat',
      classIndex: 2,
      box: [0, 0, 5, 5] as [number, number, number, number],
      bestIou: 0,
    };
    const rows: AuditRow[] = [
      row('a.png', {
        detect: {
          objects: 2,
          explained: 3,
          detections: [
            detection(0, 'object'),
            detection(undefined, 'background'),
            detection(undefined, 'object'),
          ],
          misses: [miss],
        },
      }),
      row('b.png', {
        detect: { objects: 1, explained: 1, detections: [detection(0, 'background')], misses: [] },
      }),
      row('c.png', {
        detect: { objects: 1, explained: 1, detections: [detection(0, 'object')], misses: [] },
      }),
    ];
    const findings = findingsOf(rows);
    expect(findings.map((f) => [f.id, f.text, f.files])).toEqual([
      [
        'false-positives',
        '2 false positives (detections that match no marked object) on 1 of 3 images.',
        ['a.png'],
      ],
      [
        'outside-boxes',
        "On 2 of 3 images, 2 detections' maps look mostly outside their own box.",
        ['a.png', 'b.png'],
      ],
      ['missed', '1 marked object missed on 1 of 3 images.', ['a.png']],
    ]);
  });

  it('shortcut flags (audit --shortcuts rows): per class with the object removed, and fragile answers', () => {
    const flagged = (file: string, label: string, reliesOnContext: boolean, fragile: boolean) =>
      ({ ...row(file), shortcuts: { target: { index: 0, label }, reliesOnContext, fragile } }) as AuditRow;
    const rows = [
      flagged('a.png', 'sneaker', true, false),
      flagged('b.png', 'sneaker', true, true),
      flagged('c.png', 'boot', true, false),
      flagged('d.png', 'boot', false, false),
      row('e.png'),
    ];
    expect(findingsOf(rows).map((f) => [f.id, f.text, f.files])).toEqual([
      [
        'context-1',
        "With the object removed, the model still says 'sneaker' on 2 of 4 images tested.",
        ['a.png', 'b.png'],
      ],
      [
        'context-2',
        "With the object removed, the model still says 'boot' on 1 of 4 images tested.",
        ['c.png'],
      ],
      [
        'fragile',
        'The model changes its answer on 1 of 4 images tested when only the background changes.',
        ['b.png'],
      ],
    ]);
  });
});

describe('the findings written out', () => {
  const hostile: Finding = {
    id: 'context-1',
    text: "With the object removed, the model still says '<img src=x onerror=alert(1)>' on 2 of 2 images tested.",
    advice: 'Add images.',
    count: 2,
    files: ['=HYPERLINK("x").png', 'a,b.png'],
  };

  it('needs-attention.csv: each file once with its findings, formula-guarded and quoted', () => {
    const other: Finding = {
      id: 'errors',
      text: '1 of 2 images could not be audited.',
      advice: 'Fix.',
      count: 1,
      files: ['a,b.png'],
    };
    expect(needsAttentionCsv([hostile, other]).split('\r\n')).toEqual([
      'file,findings,finding_ids,what_to_do',
      `"'=HYPERLINK(""x"").png","With the object removed, the model still says '<img src=x onerror=alert(1)>' on 2 of 2 images tested.",context-1,Add images.`,
      `"a,b.png","With the object removed, the model still says '<img src=x onerror=alert(1)>' on 2 of 2 images tested. | 1 of 2 images could not be audited.",context-1;errors,Add images. | Fix.`,
      '',
    ]);
    expect(needsAttentionCsv([])).toBe('file,findings,finding_ids,what_to_do\r\n');
  });

  it('the section escapes every text, lists the first files and a button to show them in the table', () => {
    const many: Finding = {
      id: 'background',
      text: 'x',
      advice: 'y',
      count: FINDING_FILES_SHOWN + 3,
      files: Array.from({ length: FINDING_FILES_SHOWN + 3 }, (_, i) => `f${i}.png`),
    };
    const html = findingsSection([hostile, many], 60);
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain(
      '<button type="button" class="finding-link" data-finding="finding-context-1">Show these 2 images in the table</button>',
    );
    expect(html).toContain(`<li>f${FINDING_FILES_SHOWN - 1}.png</li>`);
    expect(html).not.toContain(`<li>f${FINDING_FILES_SHOWN}.png</li>`);
    expect(html).toContain('and 3 more (the button above shows them all)');
    expect(findingsSection([], 7)).toContain('none of the 7 images looks mostly at the background');
  });

  it('the CLI prints the first five, one line each, terminal-safe', () => {
    const f = (i: number): Finding => ({
      id: `f${i}`,
      text: `Finding ${i}\u001b[31m\nred`,
      advice: '',
      count: 0,
      files: [],
    });
    const text = findingsLines([1, 2, 3, 4, 5, 6, 7].map(f));
    expect(text.split('\n')).toHaveLength(8);
    expect(text).not.toContain('\u001b');
    expect(text).toContain('  … and 2 more in the report.');
    expect(findingsLines([])).toBe('Findings: none.\n');
  });
});
