// Writes the web app as a static site (default dist-site/, or --out DIR): the built page (dist/web/) and the
// default model at models/default/, the relative paths the page's worker fetches, so any static host serves it
// (GitHub Pages, a folder on a USB stick behind `python3 -m http.server`). Run by `npm run build:site` after
// `npm run build`. Such hosts send no COOP/COEP headers: the page then runs single-threaded WebAssembly and
// says so. The headers `sightline serve` sends for safety are written into index.html where HTML can carry
// them (CSP and referrer policy as <meta>); the folder holds sightline-site.json, which names what was written
// and marks the folder as one this script may replace.
import { cp, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const MARKER = 'sightline-site.json';

const { values } = parseArgs({ options: { out: { type: 'string', default: join(root, 'dist-site') } } });
const out = resolve(values.out);
const web = join(root, 'dist', 'web');
const model = join(root, 'dist', 'models', 'default');

for (const file of [join(web, 'index.html'), join(web, 'worker.js'), join(model, 'graph.lite')]) {
  if (!(await stat(file).catch(() => undefined))?.isFile())
    fail(`'${file}' is missing: run \`npm run build\` first (\`npm run build:site\` does both).`);
}
// Never empty a folder this script did not write: --out could name a home directory.
const existing = await readdir(out).catch(() => undefined);
if (existing && existing.length > 0 && !existing.includes(MARKER))
  fail(`'${out}' is not empty and holds no ${MARKER}: pass --out <a new or empty folder>.`);
await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });

await cp(web, out, { recursive: true });
await mkdir(join(out, 'models', 'default'), { recursive: true });
for (const file of ['graph.lite', 'labels.txt', 'LICENSE'])
  await cp(join(model, file), join(out, 'models', 'default', file));

const { CONTENT_SECURITY_POLICY } = await import('../dist/server/serve.js');
const indexFile = join(out, 'index.html');
const index = await readFile(indexFile, 'utf8');
const meta = `<meta charset="utf-8">
  <meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY.replaceAll('"', '&quot;')}">
  <meta name="referrer" content="no-referrer">`;
if (!index.includes('<meta charset="utf-8">'))
  fail(`${indexFile} has no <meta charset="utf-8"> to put the CSP after.`);
await writeFile(indexFile, index.replace('<meta charset="utf-8">', meta));
// GitHub Pages runs Jekyll on a folder without this file, which hides files whose names start with '_'.
await writeFile(join(out, '.nojekyll'), '');

const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));
const files = (await readdir(out, { recursive: true, withFileTypes: true }))
  .filter((entry) => entry.isFile())
  .map((entry) =>
    join(entry.parentPath, entry.name)
      .slice(out.length + 1)
      .split('\\')
      .join('/'),
  )
  .sort();
await writeFile(
  join(out, MARKER),
  `${JSON.stringify({ sightline: pkg.version, builtAt: new Date().toISOString(), files }, null, 2)}\n`,
);
process.stdout.write(
  `Wrote the static site to ${out} (${files.length} files). Serve that folder with any web server.\n`,
);

function fail(message) {
  process.stderr.write(`build:site: ${message}\n`);
  process.exit(1);
}
