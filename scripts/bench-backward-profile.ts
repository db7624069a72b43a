// Where the input-gradient graph of a whole network spends its time, at batch 1 and a larger batch: CPU ms per
// image of the forward model and of the gradient graph (process.cpuUsage around each run, so other jobs on
// the shared machine matter less than with wall time; 1 thread, ORT not spinning, as the app runs it), then
// ONNX Runtime's own profile of the gradient graph summed per op type, with the backward nodes (the autodiff's,
// named sightline_grad/…) apart from the forward ones, and each op's per-image batch-B ÷ batch-1 ratio.
// The networks come from scripts/golden/bench_torch.py --export (torchvision, random seeded weights):
//   /usr/bin/python3 scripts/golden/bench_torch.py --models mobilenet_v2 resnet50 --export DIR --export-only
//   npx tsx scripts/bench-backward-profile.ts DIR/mobilenet_v2.onnx [DIR/resnet50.onnx]
//   BENCH_THREADS=2 BENCH_BATCHES=1,16 BENCH_REPS=7 BENCH_PROFILE=0 (skip the op table) BENCH_JSON=out.json
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import { addGradients } from '../src/engines/onnx/autodiff/index.js';
import { decodeModel, encodeModel } from '../src/engines/onnx/proto.js';
import { readNpy } from '../src/io/npy-file.js';

const batches = (process.env.BENCH_BATCHES ?? '1,16').split(',').map(Number);
const threads = Number(process.env.BENCH_THREADS ?? 1);
const reps = Number(process.env.BENCH_REPS ?? 5);
const profile = process.env.BENCH_PROFILE !== '0';

function sessionOptions(
  extra: ort.InferenceSession.SessionOptions = {},
): ort.InferenceSession.SessionOptions {
  return {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    extra: { session: { intra_op: { allow_spinning: '0' } } },
    ...extra,
  };
}

interface Run {
  label: string;
  batch: number;
  session: ort.InferenceSession;
  feeds: Record<string, ort.Tensor>;
}

/** Per run: the fastest CPU ms and wall ms per image over alternated repetitions (after one warm-up each). */
async function alternate(runs: Run[]): Promise<{ cpu: number; wall: number }[]> {
  for (const r of runs) await r.session.run(r.feeds);
  const best = runs.map(() => ({ cpu: Number.POSITIVE_INFINITY, wall: Number.POSITIVE_INFINITY }));
  for (let i = 0; i < reps; i++) {
    for (const [j, r] of runs.entries()) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      await r.session.run(r.feeds);
      const wall = performance.now() - t0;
      const c = process.cpuUsage(c0);
      best[j].cpu = Math.min(best[j].cpu, (c.user + c.system) / 1000 / r.batch);
      best[j].wall = Math.min(best[j].wall, wall / r.batch);
    }
  }
  return best;
}

interface OpTime {
  op: string;
  backward: boolean;
  /** Summed kernel µs per image per run, by batch. */
  us: Record<number, number>;
  nodes: number;
}

/** Kernel µs per image per (op type, forward/backward) and per node, from ORT's profile of `runs` runs after a warm-up. */
async function profileOps(bytes: Uint8Array, feeds: Record<string, ort.Tensor>, batch: number, runs: number) {
  const dir = mkdtempSync(join(tmpdir(), 'sightline-profile-'));
  try {
    const session = await ort.InferenceSession.create(
      bytes,
      sessionOptions({ enableProfiling: true, profileFilePrefix: join(dir, 'p') }),
    );
    await session.run(feeds);
    for (let i = 0; i < runs; i++) await session.run(feeds);
    session.endProfiling();
    await session.release();
    const file = readdirSync(dir).find((f) => f.endsWith('.json'))!;
    const events = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
      cat: string;
      name: string;
      dur: number;
      args?: { op_name?: string };
    }[];
    // Per node, the fastest of the runs after the warm-up (other jobs on the machine only ever add time, and
    // the profile's times are wall times), summed per op type.
    const runSpans = events
      .filter((e) => e.cat === 'Session' && e.name === 'model_run')
      .map((e) => e as unknown as { ts: number; dur: number })
      .sort((a, b) => a.ts - b.ts)
      .slice(1);
    const fastest = new Map<string, { op: string; us: number[] }>();
    for (const e of events) {
      if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time') || !e.args?.op_name) continue;
      const ts = (e as unknown as { ts: number }).ts;
      const run = runSpans.findIndex((r) => ts >= r.ts && ts <= r.ts + r.dur);
      if (run < 0) continue;
      const node = e.name.slice(0, -'_kernel_time'.length);
      const f = fastest.get(node) ?? { op: e.args.op_name, us: new Array<number>(runSpans.length).fill(0) };
      f.us[run] += e.dur;
      fastest.set(node, f);
    }
    const totals = new Map<string, { op: string; backward: boolean; us: number; nodes: number }>();
    for (const [node, f] of fastest) {
      const backward = node.includes('sightline_grad');
      const key = `${f.op}|${backward}`;
      // ORT's layout changes (ReorderInput/Output, named token_…) belong to neither part by name.
      const t = totals.get(key) ?? { op: f.op, backward, us: 0, nodes: 0 };
      t.us += Math.min(...f.us);
      t.nodes += 1;
      totals.set(key, t);
    }
    const nodes = new Map(
      [...fastest].map(([node, f]) => [node, { op: f.op, us: Math.min(...f.us) / batch }]),
    );
    return { ops: [...totals.values()].map((t) => ({ ...t, us: t.us / batch })), nodes };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function oneHot(n: number, k: number): ort.Tensor {
  const data = new Float32Array(n * k);
  for (let i = 0; i < n; i++) data[i * k + ((i * 37) % k)] = 1;
  return new ort.Tensor('float32', data, [n, k]);
}

async function benchNetwork(path: string) {
  const source = decodeModel(new Uint8Array(readFileSync(path)));
  const t0 = performance.now();
  const gradient = await addGradients(source);
  const transformMs = performance.now() - t0;
  const gradientBytes = gradient.encode();
  const forwardBytes = encodeModel(source);
  const x = await readNpy(path.replace(/\.onnx$/, '.input.npy'));
  const per = x.data.length / x.shape[0];
  const inputName = source.graph!.input!.find(
    (v) => !source.graph!.initializer!.some((t) => t.name === v.name),
  )!.name!;
  const forward = await ort.InferenceSession.create(forwardBytes, sessionOptions());
  const backward = await ort.InferenceSession.create(gradientBytes, sessionOptions());
  const classes = (await forward.run({ [inputName]: imageBatch(1) }))[forward.outputNames[0]].dims[1];
  function imageBatch(n: number): ort.Tensor {
    const data = new Float32Array(n * per);
    for (let i = 0; i < n; i++)
      data.set(x.data.subarray((i % x.shape[0]) * per, ((i % x.shape[0]) + 1) * per), i * per);
    return new ort.Tensor('float32', data, [n, ...x.shape.slice(1)]);
  }
  const runs: Run[] = [];
  for (const batch of batches) {
    const input = imageBatch(batch);
    runs.push({ label: 'forward', batch, session: forward, feeds: { [inputName]: input } });
    runs.push({
      label: 'gradient',
      batch,
      session: backward,
      feeds: { [inputName]: input, [gradient.seedName]: oneHot(batch, Number(classes)) },
    });
  }
  const times = await alternate(runs);
  await forward.release();
  await backward.release();
  const name = basename(path, '.onnx');
  console.log(
    `\n${name}: transform ${transformMs.toFixed(0)} ms; per image, best of ${reps} alternated runs, ${threads} thread(s)`,
  );
  console.log('| graph | batch | CPU ms/img | wall ms/img |');
  console.log('|---|---|---|---|');
  for (const [i, r] of runs.entries()) {
    console.log(`| ${r.label} | ${r.batch} | ${times[i].cpu.toFixed(1)} | ${times[i].wall.toFixed(1)} |`);
  }
  const summary = runs.map((r, i) => ({ graph: r.label, batch: r.batch, ...times[i] }));
  if (!profile) return { name, transformMs, summary };
  const byKey = new Map<string, OpTime>();
  const byNode = new Map<string, { op: string; us: Record<number, number> }>();
  for (const batch of batches) {
    const run = runs.find((r) => r.label === 'gradient' && r.batch === batch)!;
    const profiled = await profileOps(
      gradientBytes,
      run.feeds,
      batch,
      Math.max(3, Math.ceil((reps * 4) / batch)),
    );
    for (const [node, t] of profiled.nodes) {
      const n = byNode.get(node) ?? { op: t.op, us: {} };
      n.us[batch] = t.us;
      byNode.set(node, n);
    }
    for (const t of profiled.ops) {
      const key = `${t.op}|${t.backward}`;
      const o = byKey.get(key) ?? { op: t.op, backward: t.backward, us: {}, nodes: t.nodes };
      o.us[batch] = t.us;
      byKey.set(key, o);
    }
  }
  const [small, large] = [Math.min(...batches), Math.max(...batches)];
  const ops = [...byKey.values()].sort((a, b) => (b.us[large] ?? 0) - (a.us[large] ?? 0));
  const total = (b: number) => ops.reduce((s, o) => s + (o.us[b] ?? 0), 0);
  console.log(
    `\n${name} gradient graph, ORT profile, kernel ms per image (per node the fastest run after a warm-up; ${threads} thread(s))`,
  );
  console.log(
    `| op | part | nodes | ${batches.map((b) => `b${b} ms`).join(' | ')} | b${large}÷b${small} | share b${large} |`,
  );
  console.log(`|---|---|---|${batches.map(() => '---|').join('')}---|---|`);
  for (const o of ops) {
    const ratio = o.us[small] && o.us[large] ? (o.us[large] / o.us[small]).toFixed(2) : '—';
    console.log(
      `| ${o.op} | ${o.op.startsWith('Reorder') ? 'layout' : o.backward ? 'bwd' : 'fwd'} | ${o.nodes} | ${batches.map((b) => ((o.us[b] ?? 0) / 1000).toFixed(2)).join(' | ')} | ${ratio} | ${(((o.us[large] ?? 0) / total(large)) * 100).toFixed(1)}% |`,
    );
  }
  console.log(
    `| all | | | ${batches.map((b) => (total(b) / 1000).toFixed(2)).join(' | ')} | ${(total(large) / total(small)).toFixed(2)} | |`,
  );
  const top = Number(process.env.BENCH_NODES ?? 0);
  if (top > 0) {
    console.log(`\n${name}: the ${top} slowest nodes at batch ${large}, ms per image`);
    console.log(`| node | op | ${batches.map((b) => `b${b}`).join(' | ')} |`);
    console.log(`|---|---|${batches.map(() => '---|').join('')}`);
    const sorted = [...byNode].sort((a, b) => (b[1].us[large] ?? 0) - (a[1].us[large] ?? 0));
    for (const [node, n] of sorted.slice(0, top)) {
      console.log(
        `| ${node} | ${n.op} | ${batches.map((b) => ((n.us[b] ?? 0) / 1000).toFixed(3)).join(' | ')} |`,
      );
    }
  }
  return { name, transformMs, summary, ops };
}

const results = [];
for (const path of process.argv.slice(2)) results.push(await benchNetwork(path));
if (process.env.BENCH_JSON) writeFileSync(process.env.BENCH_JSON, `${JSON.stringify(results, null, 2)}\n`);
