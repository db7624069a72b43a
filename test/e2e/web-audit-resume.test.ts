// The web app's audit resumes after a reload, end to end in Debian's headless Chromium with the small model of
// web-audit.test.ts: rows are saved in IndexedDB as they come, a reload in the middle of an audit redoes only the
// photos not done (and a saved record edited into something that is not a row), Discard forgets them; a map
// asked for in the main panel while an audit runs is drawn; Cancel keeps the rows done.
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { strFromU8, unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHARED_IMAGES } from '../helpers/cli.js';
import {
  cells,
  choose,
  cliAudit,
  coco,
  discard,
  downloaded,
  finished,
  idbCount,
  MINUTE,
  openPage,
  page,
  photo,
  reportOverlays,
  SIZE,
  scratch,
  setUp,
  tearDown,
} from '../helpers/web-audit.js';

/** Enough photos that an audit is still running after its first rows, a reload, or a map drawn beside it. */
const PHOTOS = 100;

beforeAll(setUp, 2 * MINUTE);
afterAll(tearDown);

describe('resuming the audit in the web app', () => {
  it(
    'resumes after a reload mid-audit, redoing only the photos not done and a saved record that fails the check',
    async () => {
      const folder = join(scratch, 'many');
      await mkdir(folder);
      const files = Array.from({ length: PHOTOS }, (_, i) => `p${String(i).padStart(3, '0')}.png`);
      await Promise.all(files.map((file, i) => photo(join(folder, file), i)));
      const regions = join(scratch, 'many.json');
      await coco(
        regions,
        files.map((file) => ({ file, width: SIZE, height: SIZE })),
      );
      // The sample photos' rows are saved too: discarded, so the only saved rows are this audit's.
      await discard();
      await choose(folder, regions);
      await page.click('#audit-start');
      await page.waitForFunction(() => document.querySelectorAll('#audit-rows tr').length >= 3, null, {
        timeout: MINUTE,
      });
      // A row on screen has been saved: at least these are not done again.
      const seen = await page.$$eval('#audit-rows tr', (trs) => trs.length);
      expect(await idbCount()).toBeGreaterThanOrEqual(seen);
      await openPage();
      await page.waitForSelector('#audit-discard', { timeout: 10_000 });
      // One saved record edited into something that is no row: it is ignored and its photo done again. Another's
      // overlay replaced by markup: its row is kept, its pictures are not (nor put in the report).
      const [tampered, stripped] = await page.evaluate(
        () =>
          new Promise<string[]>((resolve, reject) => {
            const open = indexedDB.open('sightline-audit');
            open.onerror = () => reject(open.error);
            open.onsuccess = () => {
              const store = open.result.transaction('rows', 'readwrite').objectStore('rows');
              const cursor = store.openCursor();
              const files: string[] = [];
              cursor.onsuccess = () => {
                const c = cursor.result!;
                const { row, pictures } = c.value;
                files.push(row.file);
                if (files.length === 1) {
                  c.update({ ...c.value, row: { ...row, status: 'fine', region: { share: 'all of it' } } });
                  c.continue();
                } else {
                  const markup = new TextEncoder().encode('<svg onload="alert(1)"></svg>');
                  c.update({ ...c.value, pictures: { ...pictures, overlay: markup } });
                  resolve(files);
                }
              };
            };
          }),
      );
      await choose(folder, regions);
      await page.click('#audit-start');
      const status = await finished();
      const m = new RegExp(
        `^Done: ${PHOTOS} photos \\((\\d+) resumed from saved progress, (\\d+) audited now\\)\\.$`,
      ).exec(status);
      expect(m, status).not.toBeNull();
      const [resumed, now] = [Number(m![1]), Number(m![2])];
      expect(resumed + now).toBe(PHOTOS);
      expect(resumed).toBeGreaterThanOrEqual(seen - 1);
      expect(seen).toBeGreaterThanOrEqual(3);
      expect(resumed).toBeLessThan(PHOTOS);
      // Every row the page shows is one photo, once; the tampered one was audited again, not trusted.
      const shown = await page.$$eval('#audit-rows tr td:first-child', (tds) =>
        tds.map((t) => t.textContent),
      );
      expect(shown.sort()).toEqual(files);
      const zip = unzipSync(new Uint8Array((await downloaded('#audit-zip')).bytes));
      const csv = cells(strFromU8(zip['results.csv']));
      expect(csv.slice(1).map((r) => r[0])).toEqual(files);
      expect(csv.find((r) => r[0] === tampered)?.[1]).toBe('ok');
      // Resumed rows come back with their pictures, but for the one whose saved overlay was not a picture.
      const overlays = reportOverlays(strFromU8(zip['report.html']));
      expect(overlays.get(stripped)).toBeNull();
      expect([...overlays.values()].filter((o) => o?.startsWith('data:image/webp;base64,'))).toHaveLength(
        PHOTOS - 1,
      );
      expect(csv.find((r) => r[0] === stripped)?.[1]).toBe('ok');
      // The rows equal the CLI's for the same photos (resumed, redone and new alike).
      const subset = join(scratch, 'some');
      await mkdir(subset);
      const picked = [tampered, ...files.filter((f) => f !== tampered).filter((_, i) => i % 25 === 0)];
      for (const file of picked) await copyFile(join(folder, file), join(subset, file));
      await cliAudit(subset, regions, join(scratch, 'some-out'));
      const cli = cells(await readFile(join(scratch, 'some-out', 'results.csv'), 'utf8'));
      expect(csv.filter((r) => r[0] === 'file' || picked.includes(r[0]))).toEqual(cli);

      // Discarding forgets every saved row: the next run starts from the first photo.
      await discard();
      expect(await page.textContent('#audit-status')).toBe(
        'Saved progress discarded: the next audit starts from the first photo.',
      );
      expect(await idbCount()).toBe(0);
    },
    2 * MINUTE,
  );

  it(
    'draws a map in the main panel while an audit runs',
    async () => {
      await discard();
      await choose(join(scratch, 'many'), join(scratch, 'many.json'));
      await page.click('#audit-start');
      await page.waitForSelector('#audit-rows tr', { timeout: MINUTE });
      // The main panel's predict and Grad-CAM runs take turns with the audit's (web/src/one-run.ts; with
      // WebGPU, which headless Chromium lacks here, they would otherwise fail with "Session already started").
      await page.setInputFiles('#photo-input', join(SHARED_IMAGES, 'chelsea.png'));
      await page.waitForFunction(
        () => document.getElementById('legend-text')?.textContent?.startsWith('Grad-CAM map for'),
        null,
        { timeout: MINUTE },
      );
      const rowsWhenDrawn = await page.$$eval('#audit-rows tr', (trs) => trs.length);
      expect(rowsWhenDrawn).toBeLessThan(PHOTOS);
      expect(await page.isHidden('#message')).toBe(true);
      expect(await finished()).toBe(`Done: ${PHOTOS} photos.`);
    },
    2 * MINUTE,
  );

  it(
    'stops on Cancel and downloads the rows done so far',
    async () => {
      await discard();
      await page.click('#audit-start');
      await page.waitForSelector('#audit-rows tr', { timeout: MINUTE });
      await page.click('#audit-cancel');
      const status = await finished();
      const m = new RegExp(
        `^Cancelled: (\\d+) of ${PHOTOS} photos done; the results below are for those\\.$`,
      ).exec(status);
      expect(m, status).not.toBeNull();
      const csv = cells((await downloaded('#audit-csv')).bytes.toString('utf8'));
      expect(csv.length - 1).toBe(Number(m![1]));
      expect(Number(m![1])).toBeGreaterThan(0);
      expect(Number(m![1])).toBeLessThan(PHOTOS);
    },
    MINUTE,
  );
});
