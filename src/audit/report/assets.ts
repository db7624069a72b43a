// report.html's script and style sheet, written in web/src/report/ and bundled by scripts/build-web.mjs into
// dist/report/, read here once and inlined into every report (which must stay one self-contained file).
import { readFile } from 'node:fs/promises';
import { SightlineError } from '../../core/errors.js';

// The package's dist/report/, both from dist/audit/report/ (the built library) and from src/audit/report/
// (tests running the sources, after `npm run build`).
const ASSETS = new URL('../../../dist/report/', import.meta.url);

export interface ReportAssets {
  readonly script: string;
  readonly style: string;
}

let loaded: Promise<ReportAssets> | undefined;

/** The bundled script and style sheet; throws IO naming the missing file when the build has not made them. */
export function reportAssets(): Promise<ReportAssets> {
  loaded ??= Promise.all([read('report.js'), read('report.css')]).then(([script, style]) => ({
    script,
    style,
  }));
  loaded.catch(() => {
    loaded = undefined;
  });
  return loaded;
}

async function read(name: string): Promise<string> {
  const url = new URL(name, ASSETS);
  try {
    return await readFile(url, 'utf8');
  } catch (cause) {
    throw new SightlineError(
      'IO',
      `The audit report's ${name} is missing from this installation ('${url.pathname}'); it is made by ` +
        "'npm run build' (scripts/build-web.mjs).",
      { path: url.pathname },
      { cause },
    );
  }
}
