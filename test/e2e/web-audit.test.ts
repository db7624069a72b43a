// The web app's no-code audit, end to end in Debian's headless Chromium with a small ONNX model dropped into the
// page (net_tiny_cnn, 16×16 input; the built-in InceptionV3 is never loaded): the sample photos and a COCO file
// give downloaded files (report.html, results.csv, results.jsonl, … in a .zip) whose rows equal
// `sightline audit`'s for the same folder, model, method and regions, to 4 decimals; a regions file that is not
// COCO is refused in words. Resuming, a map drawn during an audit, and Cancel: web-audit-resume.test.ts.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { strFromU8, unzipSync } from 'fflate';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CSV_COLUMNS } from '../../src/audit/report/csv.js';
import { SHARED_IMAGES } from '../helpers/cli.js';
import {
  cells,
  choose,
  cliAudit,
  coco,
  downloaded,
  finished,
  jsonlRows,
  MINUTE,
  near,
  page,
  reportOverlays,
  reportRows,
  scratch,
  setUp,
  tearDown,
} from '../helpers/web-audit.js';

beforeAll(setUp, 2 * MINUTE);
afterAll(tearDown);

describe('the audit in the web app', () => {
  it(
    'downloads report.html, results.csv and results.jsonl whose rows equal `sightline audit` on the sample photos',
    async () => {
      const names = (await readdir(SHARED_IMAGES)).filter((f) => /\.(jpe?g|png)$/i.test(f)).sort();
      const sizes = await Promise.all(
        names.map(async (file) => ({ file, ...(await sharp(join(SHARED_IMAGES, file)).metadata()) })),
      );
      const regions = join(scratch, 'photos.json');
      await coco(
        regions,
        sizes.map((s) => ({ file: s.file, width: s.width!, height: s.height! })),
      );
      await choose(SHARED_IMAGES, regions);
      await page.click('#audit-start');
      expect(await finished()).toBe(`Done: ${names.length} photos.`);

      const report = await downloaded('#audit-report');
      expect(report.name).toBe('report.html');
      const zip = await downloaded('#audit-zip');
      expect(zip.name).toBe('sightline-audit.zip');
      const files = unzipSync(new Uint8Array(zip.bytes));
      expect(Object.keys(files).sort()).toEqual([
        'needs-attention.csv',
        'report.html',
        'results.csv',
        'results.jsonl',
        'summary.json',
      ]);
      const web = (name: string) => strFromU8(files[name]);
      expect(web('report.html')).toBe(report.bytes.toString('utf8'));

      const out = join(scratch, 'cli-photos');
      await cliAudit(SHARED_IMAGES, regions, out);
      const cli = (name: string) => readFile(join(out, name), 'utf8');
      expect(web('results.csv').split('\r\n')[0]).toBe(CSV_COLUMNS.join(','));
      // rocket.jpg carries an ICC profile: sharp (lcms2) and Chromium convert it to sRGB with different colour
      // engines, so 5% of its pixel values differ by 1 and its numbers are compared within 1e-3; the other photos'
      // pixels are identical and their numbers equal to 4 decimals.
      const [webCsv, cliCsv] = [cells(web('results.csv')), cells(await cli('results.csv'))];
      const icc = (r: readonly string[]) => r[0] === 'rocket.jpg';
      expect(webCsv.filter((r) => !icc(r))).toEqual(cliCsv.filter((r) => !icc(r)));
      expect(near(webCsv.find(icc), cliCsv.find(icc), 1e-3)).toBe(true);
      const rows = jsonlRows(web('results.jsonl'));
      const cliRows = jsonlRows(await cli('results.jsonl'));
      expect(rows.map((r) => (r as { file: string }).file)).toEqual(names);
      const rocket = names.indexOf('rocket.jpg');
      expect(rows.filter((_, i) => i !== rocket)).toEqual(cliRows.filter((_, i) => i !== rocket));
      expect(near(rows[rocket], cliRows[rocket], 1e-3)).toBe(true);
      const fileOf = (r: unknown) => (r as { file: string }).file;
      const [webReport, cliReport] = [reportRows(web('report.html')), reportRows(await cli('report.html'))];
      expect(webReport.map(fileOf)).toEqual(cliReport.map(fileOf));
      expect(webReport.filter((r) => fileOf(r) !== 'rocket.jpg')).toEqual(
        cliReport.filter((r) => fileOf(r) !== 'rocket.jpg'),
      );
      expect(web('needs-attention.csv')).toBe(await cli('needs-attention.csv'));
      const summary = (text: string) => JSON.parse(text).summary;
      const cliSummary = summary(await cli('summary.json'));
      expect(near(summary(web('summary.json')), cliSummary, 1e-3)).toBe(true);
      // The page's own dataset picture says the CLI's counts.
      const v = cliSummary.verdicts;
      const withRegions = cliRows.filter((r) => (r as { region?: unknown }).region).length;
      const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
      expect(await page.textContent('#audit-summary')).toBe(
        `${names.length} photos, 0 errors. Of the ${withRegions} with regions, ${v.object} look at the object, ${v.partly} look partly outside, ${v.background} look at the background. ` +
          `On average ${pct(cliSummary.borderShare)} of the attention falls on the photos' border band (an even spread would put ${pct(cliSummary.borderAreaShare)} there). ` +
          (cliSummary.noEvidence > 0 ? `${cliSummary.noEvidence} found no evidence for the class. ` : '') +
          'The square shows where the model looks on average (red: most).',
      );
      // The report is the library's: one file with its policy, style and script inline, the mean map, and each
      // photo's overlay (in the rows' data) and thumbnail (in the table), drawn in the page as WebP.
      const html = web('report.html');
      const overlays = [...reportOverlays(html).values()];
      expect(overlays).toHaveLength(names.length);
      for (const uri of overlays) expect(uri).toMatch(/^data:image\/webp;base64,/);
      expect(html.match(/<img [^>]*src="data:image\/webp;base64,/g)).toHaveLength(names.length);
      const overlay = Buffer.from(overlays[0]!.slice(overlays[0]!.indexOf(',') + 1), 'base64');
      const side = await sharp(overlay).metadata();
      expect(Math.max(side.width!, side.height!)).toBe(640);
      expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'`);
      expect(html).toMatch(/<img [^>]*src="data:image\/png;base64,/);
      expect(html).not.toMatch(/(src|href)="https?:/);
    },
    2 * MINUTE,
  );

  it('says what is wrong with a regions file that is not COCO, and audits nothing', async () => {
    const bad = join(scratch, 'bad.json');
    await writeFile(bad, JSON.stringify({ images: 'none' }));
    await page.setInputFiles('#audit-regions', bad);
    await page.click('#audit-start');
    expect(await finished()).toBe(
      "The audit stopped: 'bad.json' is JSON but not COCO; expected an object with the lists 'images' and 'annotations'.",
    );
    expect(await page.isEnabled('#audit-start')).toBe(true);
  });
});
