// Every speed figure of issue 15 in one run, as ratios measured in the same run, each beside its target, written
// to bench.json: the autodiff's backward ÷ forward per conv kind (bench-autodiff.ts); per method seconds per image
// and ÷ PyTorch autograd at batch 1 and 16 on MobileNetV2 and ResNet50, with batch 16 ÷ batch 1 per image
// (bench-gradients.mjs, torch through Debian's /usr/bin/python3 when it has torch: otherwise those ratios are
// "not measured"); cold start from an empty cache (bench-cold.mjs); D-RISE overhead (bench-drise.mjs); occlusion
// and RISE overhead on the default model (bench-perturbation.mjs); everything outside the model on photos up to
// 48 MP (bench-outside.mjs); audit throughput, quantized execution and sanity-check steps from
// bench-audit.mjs, bench-quant.mjs and bench-sanity.mjs when present; the queue's 2 workers ÷ 1 worker and its
// overhead against a local audit (issue 16, bench-queue.ts; skipped, saying so, without redis-server); the
// report's bytes per image and how soon Chromium shows a 10,000-row report's first rows (bench-report.mjs); the web
// app's drop → first Grad-CAM time from the last web e2e run (tmp/web-timing.json, written by
// test/e2e/web-app.test.ts).
//   npm run bench                         all of it (about 10 minutes on 2 quiet cores), writes bench.json
//   node scripts/bench.mjs --quick        a smoke run on a tiny MobileNetV2 (seconds; after npm run build)
//   node scripts/bench.mjs --only methods,cold [--no-torch] [--json out.json]
// Sections: perOp, methods, cold, drise, perturbation, outside, audit, quant, sanity, queue, report, web.
// A hook (bench-audit/quant/sanity.mjs) exports a function (default export, or its first exported function)
// called with { quick } that returns its figures: audit { imagesPerSecond, modelRate, ratio }, quant
// { quantizedSecondsPerPass, floatSecondsPerPass, ratio }, sanity { stepOverheadGradientPasses }, report
// { rows, pagedBytesPerImage, singleFileBytesPerImage, chromiumFirstRowsSeconds, chromiumAllRowsSeconds }.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { figures, formatTarget } from './bench-figures.mjs';

const root = new URL('..', import.meta.url).pathname;
const argv = process.argv.slice(2);
const option = (name) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
const quick = argv.includes('--quick');
const torch = !argv.includes('--no-torch');
const jsonPath = option('--json') ?? join(root, 'bench.json');
const SECTIONS = [
  'perOp',
  'methods',
  'cold',
  'drise',
  'perturbation',
  'outside',
  'audit',
  'quant',
  'sanity',
  'queue',
  'report',
  'web',
];
// The default model's occlusion/RISE overhead, the 48 MP photos and the queue's three audits (CI runs --quick)
// take minutes: full runs only (or --only queue --quick: 16 images, a smoke run of the queue section). The
// report's Chromium runs likewise (--only report --quick: 1,000 rows, one run).
const QUICK_SKIPS = ['perturbation', 'outside', 'queue', 'report'];
// --outside and --drise: the older spellings of --only outside and --only drise.
const legacy = ['outside', 'drise'].filter((name) => argv.includes(`--${name}`));
const only = option('--only')?.split(',') ?? (legacy.length > 0 ? legacy : undefined);
const wanted = (name) => (only ? only.includes(name) : !(quick && QUICK_SKIPS.includes(name)));
const load = () => os.loadavg().map((l) => Number(l.toFixed(2)));

/** Per conv kind, through tsx (the autodiff is imported from src/); the rows come back through a JSON file. */
function perOp() {
  const dir = mkdtempSync(join(os.tmpdir(), 'sightline-bench-'));
  try {
    const file = join(dir, 'autodiff.json');
    const env = { ...process.env, BENCH_JSON: file };
    if (quick)
      Object.assign(env, { BENCH_BATCHES: '1', BENCH_REPS: '2', BENCH_LAYERS: '576 14²|1×1 s1 256→64' });
    execFileSync('npx', ['tsx', 'scripts/bench-autodiff.ts'], {
      stdio: ['ignore', 'inherit', 'inherit'],
      cwd: root,
      env,
    });
    return { rows: JSON.parse(readFileSync(file, 'utf8')) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The queue's throughput (bench-queue.ts through tsx: it starts its own redis-server and workers). */
function queue() {
  const dir = mkdtempSync(join(os.tmpdir(), 'sightline-bench-'));
  try {
    const file = join(dir, 'queue.json');
    // 150 images keep the fixed costs of a run (process start, model load) under the 5% it measures; best of 3,
    // every round printed and kept (from round to round a one-worker run varied by up to 15%, the local one by up
    // to 17%); RISE with 4000 masks an image (bench-queue.ts says why), 1000 in a quick run.
    const size = quick ? ['16', '1', '1000'] : ['150', '3', '4000'];
    execFileSync('npx', ['tsx', 'scripts/bench-queue.ts', ...size, '--json', file], {
      stdio: ['ignore', 'inherit', 'inherit'],
      cwd: root,
    });
    return JSON.parse(readFileSync(file, 'utf8'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Another helper's figures, when its script is there; "not measured" otherwise. */
async function hook(file) {
  const path = join(root, 'scripts', file);
  if (!existsSync(path)) return { note: `not measured (scripts/${file} is not there yet)` };
  const module = await import(path);
  const run = module.default ?? Object.values(module).find((v) => typeof v === 'function');
  if (!run) return { note: `not measured (scripts/${file} exports no function)` };
  return run({ quick });
}

function web() {
  const file = join(root, 'tmp/web-timing.json');
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8'));
}

const runners = {
  perOp: async () => perOp(),
  methods: async () => (await import('./bench-gradients.mjs')).benchMethods({ quick, torch }),
  cold: async () => (await import('./bench-cold.mjs')).benchColdStart({ quick }),
  drise: async () => (await import('./bench-drise.mjs')).benchDrise({ quick }),
  perturbation: async () => (await import('./bench-perturbation.mjs')).benchPerturbation(),
  outside: async () => (await import('./bench-outside.mjs')).benchOutsideTheModel(),
  audit: () => hook('bench-audit.mjs'),
  quant: () => hook('bench-quant.mjs'),
  sanity: () => hook('bench-sanity.mjs'),
  queue: async () => queue(),
  report: () => hook('bench-report.mjs'),
  web: async () => web(),
};

const started = performance.now();
const report = {
  version: 1,
  date: new Date().toISOString(),
  quick,
  machine: { cores: os.cpus().length, cpu: os.cpus()[0]?.model, node: process.version, loadBefore: load() },
  sections: {},
  seconds: {},
};
for (const name of SECTIONS) {
  if (!wanted(name)) continue;
  const t0 = performance.now();
  try {
    report.sections[name === 'cold' ? 'coldStart' : name] = await runners[name]();
  } catch (error) {
    // One broken section must not lose the others' figures.
    console.error(`bench: section ${name} failed: ${error.message}`);
    report.sections[name === 'cold' ? 'coldStart' : name] = { error: error.message };
  }
  report.seconds[name] = Number(((performance.now() - t0) / 1000).toFixed(1));
}
report.machine.loadAfter = load();
report.seconds.total = Number(((performance.now() - started) / 1000).toFixed(1));
// With --only, the figures of the sections that ran (the others would all read "not measured").
const SECTION_OF = { torch: 'methods', batch: 'methods', overhead: 'perturbation' };
report.figures = figures(report.sections).filter((f) => {
  const prefix = f.id.split('.')[0];
  return wanted(SECTION_OF[prefix] ?? prefix);
});

console.log(
  `\nissue 15 and 16 figures (${quick ? 'quick smoke run, not the issue’s sizes' : 'full run'}; load ${report.machine.loadBefore.join(', ')} → ${report.machine.loadAfter.join(', ')} on ${report.machine.cores} cores):`,
);
console.log('| figure | measured | target | |');
console.log('|---|---|---|---|');
for (const f of report.figures) {
  const value =
    f.value === null
      ? (f.note ?? 'not measured')
      : `${f.value.toFixed(f.unit === 's' ? 2 : 2)}${f.unit === 's' ? ' s' : f.unit === '×' ? '×' : ` ${f.unit}`}`;
  const mark = f.pass === null ? '' : f.pass ? 'pass' : 'MISS';
  console.log(
    `| ${f.label} | ${value} | ${formatTarget(f.target)}${f.target && f.unit === 's' ? ' s' : ''} | ${mark} |`,
  );
}
writeFileSync(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
console.log(`\nwrote ${jsonPath} (${report.seconds.total} s)`);
