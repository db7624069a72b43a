import cliProgress from 'cli-progress';
import type { Progress, ProgressCallback } from '../core/progress.js';

/**
 * A progress bar with ETA on stderr, shown only once work has run for over a second (quick jobs stay quiet)
 * and only on a terminal, so logs and pipes get no control characters.
 */
export function progressBar(
  label: string,
  stream: NodeJS.WriteStream = process.stderr,
): { update: ProgressCallback; stop(): void } {
  const started = Date.now();
  let bar: cliProgress.SingleBar | undefined;
  let last: Progress | undefined;
  return {
    update(p) {
      last = p;
      if (!stream.isTTY) return;
      if (!bar && Date.now() - started < 1000) return;
      if (!bar) {
        bar = new cliProgress.SingleBar(
          {
            stream,
            format: `${label} [{bar}] {percentage}% | {value}/{total} {unit} | ETA {eta_formatted}`,
            hideCursor: true,
            clearOnComplete: true,
            etaBuffer: 20,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(p.total, p.done, { unit: p.unit });
      }
      bar.setTotal(p.total);
      bar.update(p.done, { unit: p.unit });
    },
    stop() {
      if (bar && last) bar.update(last.done);
      bar?.stop();
    },
  };
}
