// Issue 15's and 16's figures from the sections of one `npm run bench` run, each beside its target with a
// pass/miss mark. Pure: sections in, figures out (scripts/bench.mjs prints them and writes them to bench.json).

/** A figure: value (a ratio or seconds), target { op, value } or null (shown for reference), pass. */
function figure(id, label, value, unit, target, note) {
  const pass =
    target && typeof value === 'number' && Number.isFinite(value)
      ? target.op === '<='
        ? value <= target.value
        : value >= target.value
      : null;
  return { id, label, value: value ?? null, unit, target: target ?? null, pass, ...(note ? { note } : {}) };
}

const why = (section) => section?.note ?? (section?.error ? `failed: ${section.error}` : 'not measured');
const atMost = (value) => ({ op: '<=', value });
const atLeast = (value) => ({ op: '>=', value });
const LABEL = {
  vanilla: 'vanilla gradient',
  ig: 'IG',
  smoothgrad: 'SmoothGrad',
  gradcam: 'Grad-CAM',
  occlusion: 'occlusion',
  rise: 'RISE',
};
/** Targets of ours ÷ torch at the largest batch (issue 15: ≤ 0.6×, goal 0.5×; Grad-CAM ≤ 0.3×). */
const TORCH_TARGETS = { vanilla: 0.6, ig: 0.6, smoothgrad: 0.6, gradcam: 0.3 };

export function figures(sections) {
  const out = [];
  const {
    perOp,
    methods,
    coldStart,
    drise,
    perturbation,
    outside,
    audit,
    quant,
    sanity,
    queue,
    report,
    web,
  } = sections;

  if (perOp?.rows?.length) {
    const kinds = [...new Set(perOp.rows.map((r) => r.kind))];
    for (const kind of kinds) {
      const worst = Math.max(...perOp.rows.filter((r) => r.kind === kind).map((r) => r.backwardOverForward));
      out.push(
        figure(
          `perOp.${kind}`,
          `backward ÷ forward, ${kind} (worst layer and batch)`,
          worst,
          '×',
          atMost(1.2),
        ),
      );
    }
  } else out.push(figure('perOp', 'backward ÷ forward per conv kind', null, '×', atMost(1.2), why(perOp)));

  if (methods?.rows?.length) {
    const large = Math.max(...methods.config.batches);
    for (const r of methods.rows) {
      if (r.method === 'forward') continue;
      const target = r.batch === large ? TORCH_TARGETS[r.method] : undefined;
      out.push(
        figure(
          `torch.${r.model}.${r.method}.b${r.batch}`,
          `${LABEL[r.method]} ÷ torch autograd, ${r.model} batch ${r.batch}`,
          r.ratio,
          '×',
          target ? atMost(target) : null,
          r.ratio === null ? `torch not measured: ${methods.torch.reason}` : undefined,
        ),
      );
    }
    for (const s of methods.batchScaling) {
      out.push(
        figure(
          `batch.${s.model}.${s.method}`,
          `${LABEL[s.method]} per image, batch ${s.batches[1]} ÷ batch ${s.batches[0]}, ${s.model}`,
          s.ratio,
          '×',
          atMost(0.7),
        ),
      );
    }
  } else
    out.push(
      figure(
        'torch',
        'methods ÷ torch autograd',
        null,
        '×',
        atMost(0.6),
        methods?.torch?.reason ?? why(methods),
      ),
    );

  if (coldStart) {
    out.push(
      figure(
        'cold.gradcam',
        'Grad-CAM graph of the default model, empty cache',
        coldStart.gradcamGraph,
        's',
        atMost(2),
      ),
    );
    out.push(
      figure(
        'cold.gradient',
        'input-gradient graph of the default model, empty cache',
        coldStart.gradientGraph,
        's',
        atMost(2),
      ),
    );
    if (coldStart.firstCommand !== undefined)
      out.push(
        figure(
          'cold.firstCommand',
          "the README's first command, empty cache",
          coldStart.firstCommand,
          's',
          atMost(15),
        ),
      );
  }
  if (drise)
    out.push(figure('drise', 'D-RISE time ÷ its raw detector passes', drise.ratio, '×', atMost(1.1)));
  for (const r of perturbation ?? [])
    out.push(
      figure(
        `overhead.${r.method}`,
        `${LABEL[r.method]} time ÷ (passes × forward), default model`,
        r.ratio,
        '×',
        atMost(1.05),
      ),
    );
  for (const r of outside ?? []) {
    const mp = r.width * r.height;
    if (mp <= 768 * 576)
      out.push(
        figure(
          'outside.small',
          `outside the model, ${r.width}×${r.height} (median)`,
          r.median,
          's',
          atMost(0.1),
        ),
      );
    if (mp >= 40e6)
      out.push(
        figure(
          'outside.48mp',
          `outside the model, ${r.width}×${r.height} (median)`,
          r.median,
          's',
          atMost(1.5),
        ),
      );
  }
  out.push(
    audit?.ratio !== undefined
      ? figure('audit', 'audit images/s ÷ the model’s forward+backward rate', audit.ratio, '×', atLeast(0.9))
      : figure(
          'audit',
          'audit images/s ÷ the model’s forward+backward rate',
          null,
          '×',
          atLeast(0.9),
          why(audit),
        ),
  );
  const quantRatio =
    quant?.quantizedSecondsPerPass !== undefined
      ? quant.quantizedSecondsPerPass / quant.floatSecondsPerPass
      : null;
  out.push(
    figure(
      'quant',
      'quantized ÷ float seconds per forward pass (≤ 0.67: ≥ 1.5× faster, run quantized)',
      quantRatio,
      '×',
      atMost(2 / 3),
      quantRatio === null ? why(quant) : undefined,
    ),
  );
  out.push(
    figure(
      'sanity',
      'sanity-check step overhead, in gradient passes',
      sanity?.stepOverheadGradientPasses ?? null,
      'passes',
      atMost(2),
      sanity?.stepOverheadGradientPasses === undefined ? why(sanity) : undefined,
    ),
  );
  // Issue 16: one machine's workers as the issue measures them (one ONNX Runtime thread each).
  out.push(
    figure(
      'queue.scaling',
      'queue: 2 workers ÷ 1 worker throughput (1 thread each)',
      queue?.scaling ?? null,
      '×',
      atLeast(1.6),
      queue?.scaling === undefined ? why(queue) : undefined,
    ),
    figure(
      'queue.overhead',
      'queue: 1 worker’s time over a local audit’s (1 thread each)',
      queue?.overhead === undefined ? null : queue.overhead * 100,
      '%',
      atMost(5),
      queue?.overhead === undefined ? why(queue) : undefined,
    ), // The same with each process pinned to a core of its own (bench-queue.ts): one worker per core.
    figure(
      'queue.scalingPinned',
      'queue: 2 workers ÷ 1 worker, each pinned to a core of its own',
      queue?.pinned?.scaling ?? null,
      '×',
      atLeast(1.6),
      queue?.pinned === undefined
        ? queue?.scaling === undefined
          ? why(queue)
          : 'not measured (needs 2 cores and taskset)'
        : undefined,
    ),
    figure(
      'queue.overheadPinned',
      'queue: 1 worker’s time over a local audit’s, each pinned to one core',
      queue?.pinned === undefined ? null : queue.pinned.overhead * 100,
      '%',
      atMost(5),
      queue?.pinned === undefined
        ? queue?.scaling === undefined
          ? why(queue)
          : 'not measured (needs 2 cores and taskset)'
        : undefined,
    ),
  );
  // Issue 16 item 5: the report of a large audit (rows generated by bench-report.mjs) and of the sample photos.
  const rows = report?.rows === undefined ? '10,000' : report.rows.toLocaleString('en');
  const reportNote = report?.rows === undefined ? why(report) : undefined;
  const kb = (bytes) => (bytes === undefined ? null : bytes / 1000);
  out.push(
    figure(
      'report.pagedKB',
      `report: KB per image on disk, ${rows}-row paged report`,
      kb(report?.pagedBytesPerImage),
      'KB',
      atMost(60),
      reportNote,
    ),
    figure(
      'report.singleKB',
      'report: KB per image, single-file report of the sample photos',
      kb(report?.singleFileBytesPerImage),
      'KB',
      atMost(60),
      reportNote,
    ),
    figure(
      'report.firstRows',
      `report: first rows shown in Chromium, ${rows} rows (median)`,
      report?.chromiumFirstRowsSeconds ?? null,
      's',
      atMost(3),
      reportNote,
    ),
    figure(
      'report.allRows',
      `report: every row read in Chromium, ${rows} rows (median)`,
      report?.chromiumAllRowsSeconds ?? null,
      's',
      null,
      reportNote,
    ),
  );
  const notRun =
    'not measured (run npx vitest run test/e2e/web-app.test.ts first: it writes tmp/web-timing.json)';
  out.push(
    figure(
      'web.firstGradCam',
      'web app: drop a photo → first Grad-CAM map (graph cached), Chromium',
      web?.dropToFirstMapSeconds ?? null,
      's',
      null,
      web ? `from the web e2e run of ${web.date}` : notRun,
    ),
  );
  out.push(
    figure(
      'web.graphBuildLongestTask',
      'web app: longest main-thread task while the worker built the graph (first map)',
      web ? web.firstMapWithGraphBuild.longestTaskMs / 1000 : null,
      's',
      null,
      web ? `first map ${web.firstMapWithGraphBuild.seconds.toFixed(2)} s in all` : notRun,
    ),
  );
  return out;
}

export function formatTarget(t) {
  return t ? `${t.op === '<=' ? '≤' : '≥'} ${Number(t.value.toFixed(2))}` : '—';
}
