// report.html's script and style sheet come from web/src/report/, bundled by `npm run build` into dist/report/
// and inlined by renderReport. These tests fail when that bundle is missing or older than its sources.
import { stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { summarize } from '../../src/audit/aggregate.js';
import { reportAssets } from '../../src/audit/report/assets.js';
import { renderReport } from '../../src/audit/report/index.js';

const path = (p: string) => fileURLToPath(new URL(`../../${p}`, import.meta.url));

describe('report assets', () => {
  it('are built from the current sources (run npm run build after editing web/src/report/)', async () => {
    const sources = [
      'web/src/report/report.ts',
      'web/src/report/report.css',
      'src/audit/report/page-data.ts',
    ];
    const newest = Math.max(...(await Promise.all(sources.map(async (s) => (await stat(path(s))).mtimeMs))));
    for (const built of ['dist/report/report.js', 'dist/report/report.css']) {
      const { mtimeMs } = await stat(path(built));
      expect(mtimeMs, `${built} is older than its sources: run npm run build`).toBeGreaterThanOrEqual(newest);
    }
  });

  it('hold nothing that could end their element or read as a URL or a comment', async () => {
    const { script, style } = await reportAssets();
    expect(script.length).toBeGreaterThan(1000);
    expect(style).toContain('.badge.noevidence');
    for (const text of [script, style]) {
      expect(text).not.toMatch(/<\/|<!--|\/\/|url\(/i);
    }
  });

  it('are inlined into the report as they are', async () => {
    const { script, style } = await reportAssets();
    const html = await renderReport({
      rows: [],
      summary: summarize([]),
      config: { model: 'm', method: 'gradient', options: {} },
    });
    expect(html).toContain(`<script>${script}</script>`);
    expect(html).toContain(`<style>${style}\n.ramp { background: linear-gradient(to right, rgb(`);
  });
});
