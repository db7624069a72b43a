import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { summarize, summaryGrid } from '../../src/audit/aggregate.js';
import { CSV_COLUMNS, renderReport, rowsToCsv, rowsToJsonl } from '../../src/audit/report/index.js';
import type { AuditConfig, AuditRow } from '../../src/audit/types.js';
import { colormap } from '../../src/render/colormaps.js';

const HOSTILE_FILE = '<img src=x onerror=alert(1)>.jpg';
const HOSTILE_LABEL = `"&'<>`;

const TOP_LEFT = summaryGrid({ width: 2, height: 2, data: Float32Array.from([1, 0, 0, 0]) }, false);
const BOTTOM_RIGHT = summaryGrid({ width: 2, height: 2, data: Float32Array.from([0, 0, 0, 1]) }, false);

function okRow(file: string, extra: Partial<AuditRow>): AuditRow {
  return {
    file,
    status: 'ok',
    width: 10,
    height: 10,
    predictions: [
      { index: 1, label: 'tabby', score: 0.871 },
      { index: 2, label: 'tiger cat', score: 0.052 },
    ],
    target: { index: 1, label: 'tabby' },
    borderShare: 0.25,
    summary: TOP_LEFT,
    ...extra,
  };
}

const ROWS: AuditRow[] = [
  okRow('cats/a.jpg', {
    label: { text: 'tabby', index: 1 },
    correct: true,
    region: {
      share: 0.72,
      areaShare: 0.2,
      concentration: 3.6,
      peakInside: true,
      tolerance: 15,
      verdict: 'object',
    },
  }),
  okRow(HOSTILE_FILE, {
    label: { text: HOSTILE_LABEL, index: 3 },
    correct: false,
    summary: BOTTOM_RIGHT,
    borderShare: 0.5,
    region: {
      share: 0.08,
      areaShare: 0.2,
      concentration: 0.4,
      peakInside: false,
      tolerance: 15,
      verdict: 'background',
    },
  }),
  {
    file: 'broken, "really".jpg',
    status: 'error',
    error: { code: 'IMAGE_DECODE', message: 'Could not decode <b>it</b>:\nbad header' },
  },
  okRow('=HYPERLINK("evil").jpg', {
    label: { text: '-0.5', index: 4 },
    correct: true,
    borderShare: 0.125,
  }),
];

const CONFIG: AuditConfig = {
  model: 'default (InceptionV3)',
  method: 'grad-cam',
  options: { layer: 'Mixed_7c', seed: 0 },
  labels: 'labels.csv',
  regions: 'boxes.json',
};

/** RFC 4180 parsing, enough to read back what rowsToCsv wrote. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      record.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      i++;
    } else field += c;
  }
  return records;
}

describe('rowsToCsv', () => {
  const csv = rowsToCsv(ROWS);
  const records = parseCsv(csv);

  it('writes the header and one CRLF-ended record per row', () => {
    expect(csv.split('\r\n')[0]).toBe(
      'file,status,task,top1,top1_score,prediction,label,correct,tags_present,tags_absent,target,target_low_probability,share,area_share,concentration,peak_inside,verdict,no_evidence,border_share,deletion_auc,insertion_auc,error',
    );
    expect(records[0]).toEqual([...CSV_COLUMNS]);
    expect(records).toHaveLength(ROWS.length + 1);
    expect(csv.endsWith('\r\n')).toBe(true);
    for (const r of records) expect(r).toHaveLength(CSV_COLUMNS.length);
  });

  it('writes numbers, booleans and codes as they are', () => {
    const a = Object.fromEntries(CSV_COLUMNS.map((c, i) => [c, records[1][i]]));
    expect(a).toEqual({
      file: 'cats/a.jpg',
      status: 'ok',
      task: 'classify',
      top1: 'tabby',
      top1_score: '0.871',
      prediction: 'tabby 87.1%',
      label: 'tabby',
      correct: 'true',
      tags_present: '',
      tags_absent: '',
      target: 'tabby',
      target_low_probability: '',
      share: '0.72',
      area_share: '0.2',
      concentration: '3.6',
      peak_inside: 'true',
      verdict: 'object',
      no_evidence: 'false',
      border_share: '0.25',
      deletion_auc: '',
      insertion_auc: '',
      error: '',
    });
  });

  it('quotes commas, quotes and line breaks (RFC 4180)', () => {
    expect(csv).toContain('"broken, ""really"".jpg",error,');
    expect(csv).toContain('"Could not decode <b>it</b>:\nbad header"');
    expect(records[3][0]).toBe('broken, "really".jpg');
    expect(records[3][CSV_COLUMNS.indexOf('error')]).toBe('Could not decode <b>it</b>:\nbad header');
    expect(records[2][CSV_COLUMNS.indexOf('label')]).toBe(HOSTILE_LABEL);
  });

  it('defuses fields a spreadsheet would run as formulas, but leaves numbers alone', () => {
    expect(records[4][0]).toBe(`'=HYPERLINK("evil").jpg`);
    expect(records[4][CSV_COLUMNS.indexOf('label')]).toBe('-0.5');
    const guarded = rowsToCsv(
      ['+1 555', '@SUM(A1)', '-cmd', '\tx', '\rx', '-0.5', '+3', '-1e-7', '.5'].map((file) =>
        okRow(file, {}),
      ),
    );
    expect(parseCsv(guarded).map((r) => r[0])).toEqual([
      'file',
      "'+1 555",
      "'@SUM(A1)",
      "'-cmd",
      "'\tx",
      "'\rx",
      '-0.5',
      '+3',
      '-1e-7',
      '.5',
    ]);
  });
});

describe('rowsToJsonl', () => {
  it('round-trips the rows, summaries included, one per line', () => {
    const text = rowsToJsonl(ROWS);
    const lines = text.split('\n');
    expect(lines).toHaveLength(ROWS.length + 1);
    expect(lines.at(-1)).toBe('');
    expect(lines.slice(0, -1).map((line) => JSON.parse(line))).toEqual(ROWS);
    expect(JSON.parse(lines[0]).summary).toHaveLength(TOP_LEFT.length);
    expect(rowsToJsonl([])).toBe('');
  });
});

async function png(r: number, g: number, b: number, width = 4, height = 3): Promise<Uint8Array> {
  return new Uint8Array(
    await sharp({ create: { width, height, channels: 3, background: { r, g, b } } })
      .png()
      .toBuffer(),
  );
}

describe('renderReport', async () => {
  const images = new Map([
    ['cats/a.jpg', { thumbnail: await png(200, 0, 0), overlay: await png(0, 200, 0, 8, 6) }],
    [HOSTILE_FILE, { thumbnail: await png(0, 0, 200), overlay: await png(200, 200, 0, 8, 6) }],
  ]);
  const summary = summarize(ROWS, { clusters: 2 });
  const html = await renderReport({ rows: ROWS, summary, config: CONFIG, title: 'Cats <audit>', images });

  it('escapes every file name, label and message', () => {
    expect(html).not.toContain('<img src=x');
    expect(html).not.toContain(HOSTILE_FILE);
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;.jpg');
    expect(html).not.toContain(HOSTILE_LABEL);
    expect(html).toContain('&quot;&amp;&#39;&lt;&gt;');
    expect(html).not.toContain('<b>it</b>');
    expect(html).toContain('Could not decode &lt;b&gt;it&lt;/b&gt;');
    expect(html).toContain('<title>Cats &lt;audit&gt;</title>');
  });

  it('embeds the script data as JSON with < escaped', () => {
    const json = /<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(html)?.[1];
    expect(json).toBeDefined();
    expect(json).not.toMatch(/[<>]/);
    expect(json).toContain('\\u003cimg src=x onerror=alert(1)\\u003e.jpg');
    const data = JSON.parse(json!);
    expect(data.rows.map((r: { file: string }) => r.file)).toContain(HOSTILE_FILE);
    expect(html.match(/<\/script>/g)).toHaveLength(2);
  });

  it('refers to no URL: pictures are data: URIs and the policy forbids fetching', () => {
    const stripped = html
      .replace(/data:image\/png;base64,[A-Za-z0-9+/=]+/g, 'data:PNG')
      .replace(/'sha256-[A-Za-z0-9+/=]+'/g, 'HASH');
    expect(stripped).not.toMatch(/https?:/i);
    expect(stripped).not.toContain('//');
    expect(stripped).not.toMatch(/\b(src|href)="(?!data:)/);
    expect(stripped).not.toMatch(/url\(/i);
    expect(html).toMatch(
      /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:;/,
    );
  });

  it('allows exactly its own style and script by hash', () => {
    const hash = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)![1];
    const script = /<script>([\s\S]*?)<\/script>/.exec(html)![1];
    expect(html).toContain(`style-src ${hash(style)}`);
    expect(html).toContain(`script-src ${hash(script)}`);
  });

  it('states what was run and the thresholds', () => {
    for (const text of ['default (InceptionV3)', 'grad-cam', 'layer = Mixed_7c, seed = 0', 'labels.csv']) {
      expect(html).toContain(text);
    }
    expect(html).toContain("at least 50% of the model's attention is inside");
    expect(html).toContain('at least 2× what a region that size would get');
    expect(html).toContain('within 15 px of the marked region');
  });

  it('shows the dataset-level numbers', () => {
    // Border shares 0.25, 0.5, 0.125 → 29%; each image 10×10 → 36%.
    expect(html).toContain('On average <strong>29%</strong> of the attention lies on the border band');
    expect(html).toContain('which covers 36% of the image: less than an even spread would put there');
    expect(html).toContain('4 images: 3 explained, 1 error.');
    // a correct, hostile wrong, HYPERLINK correct → 67%; object 1/1, background 0/1.
    expect(html).toContain('Accuracy: <strong>67%</strong> of 3 labelled images');
    expect(html).toMatch(/looks at the object<\/span><\/th><td>1<\/td><td>100%<\/td>/);
    expect(html).toMatch(/looks at the background<\/span><\/th><td>1<\/td><td>0%<\/td>/);
    expect(html).toMatch(/looks partly outside<\/span><\/th><td>0<\/td><td>—<\/td>/);
    expect(html).toMatch(/<th scope="row">no region<\/th><td>1<\/td>/);
    expect(html).toContain('<strong>Group 1</strong>: 2 images');
    expect(html).toContain('<strong>Group 2</strong>: 1 image');
    expect(html.match(/alt="Mean heat map/g)).toHaveLength(3);
  });

  it('lists the images worst first: errors, background, object, no region', () => {
    const order = [...html.matchAll(/<button type="button" class="open"[^>]*>([^<]*)<\/button>/g)].map(
      (m) => m[1],
    );
    expect(order).toEqual([
      'broken, &quot;really&quot;.jpg',
      '&lt;img src=x onerror=alert(1)&gt;.jpg',
      'cats/a.jpg',
      '=HYPERLINK(&quot;evil&quot;).jpg',
    ]);
    expect(html).toContain('<td class="num">72%</td>');
    expect(html).toContain('<td class="num">87.1%</td>');
  });

  it('renders the mean map as a turbo PNG upscaled by nearest neighbour', async () => {
    const uri = /<img src="(data:image\/png;base64,[^"]+)"[^>]*alt="Mean heat map of the model/.exec(
      html,
    )?.[1];
    expect(uri).toBeDefined();
    const { data, info } = await sharp(Buffer.from(uri!.split(',')[1], 'base64'))
      .raw()
      .toBuffer({ resolveWithObject: true });
    expect(info.width).toBe(160);
    expect(info.height).toBe(160);
    // Two top-left maps and one bottom-right: the top-left quadrant is the maximum (turbo's red end), the
    // bottom-right half of it, the top-right zero (turbo's dark start). 5 px per cell, 80 px per quadrant.
    const lut = colormap('turbo').lut;
    const pixel = (x: number, y: number) => [...data.subarray((y * 160 + x) * 3, (y * 160 + x) * 3 + 3)];
    expect(pixel(10, 10)).toEqual([...lut.subarray(255 * 3, 256 * 3)]);
    expect(pixel(79, 79)).toEqual([...lut.subarray(255 * 3, 256 * 3)]);
    expect(pixel(150, 150)).toEqual([...lut.subarray(128 * 3, 129 * 3)]);
    expect(pixel(150, 10)).toEqual([...lut.subarray(0, 3)]);
    expect(pixel(80, 79)).toEqual([...lut.subarray(0, 3)]);
  });
});
