/** Ctrl-C during a long command: the signal to hand to the work, and `release` to stop listening. */
export interface Interruptible {
  readonly signal: AbortSignal;
  release(): void;
}

/**
 * Ctrl-C as cancellation. The first aborts `signal` after writing `message` (what happens now) on stderr, so
 * the work stops between model calls and what is done is kept; a second exits at once with 130 (128 + SIGINT,
 * as shells report it), for when the user will not wait.
 */
export function interruptible(message: string): Interruptible {
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write(`\nsightline: ${message}\n`);
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  return { signal: controller.signal, release: () => process.off('SIGINT', onSigint) };
}
