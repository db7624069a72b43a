import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { watch } from '../helpers/cli.js';

const INTERRUPT = fileURLToPath(new URL('../../dist/cli/interrupt.js', import.meta.url));

/**
 * A process that listens with interruptible() as the commands do and reports each step on stdout; the test
 * sends it SIGINTs. With `release`, it stops listening once the first has aborted the signal.
 */
function listener(release: boolean) {
  const script = `
    import { interruptible } from ${JSON.stringify(INTERRUPT)};
    const interrupt = interruptible('stopping after the current batch…');
    interrupt.signal.addEventListener('abort', () => {
      process.stdout.write('aborted\\n');
      if (${release}) {
        interrupt.release();
        setTimeout(() => process.stdout.write('released\\n'), 100);
      }
    });
    process.stdout.write('ready\\n');
    setInterval(() => {}, 1000);
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script]);
  const { output, exit } = watch(child);
  const until = (line: string) =>
    vi.waitFor(() => expect(output().stdout).toContain(`${line}\n`), { timeout: 10_000 });
  return { child, until, exit: exit.then(({ code, signal }) => ({ code, signal })), out: output };
}

describe('interruptible (the Ctrl-C handling of explain, evaluate and audit)', () => {
  it('the first Ctrl-C aborts the signal and says so; the second exits at once with 130', async () => {
    const run = listener(false);
    await run.until('ready');
    run.child.kill('SIGINT');
    await run.until('aborted');
    expect(run.child.exitCode).toBeNull(); // still running: the work winds down by itself
    // stderr is another pipe: its bytes may come a moment after stdout's.
    await vi.waitFor(() => expect(run.out().stderr).toBe('\nsightline: stopping after the current batch…\n'));
    run.child.kill('SIGINT');
    expect(await run.exit).toEqual({ code: 130, signal: null });
    expect(run.out().stdout).toBe('ready\naborted\n');
  }, 20_000);

  it('after release, a Ctrl-C is not handled: no message, no exit 130', async () => {
    const run = listener(true);
    await run.until('ready');
    run.child.kill('SIGINT');
    await run.until('released');
    run.child.kill('SIGINT');
    // From a shell the signal's default kills the process; where the test runner has SIGINT ignored, that
    // disposition comes back and the process runs on. Either way interruptible() no longer answers.
    const outcome = await Promise.race([run.exit, sleep(1000).then(() => 'running')]);
    run.child.kill('SIGKILL');
    expect([{ code: null, signal: 'SIGINT' }, 'running']).toContainEqual(outcome);
    expect(run.out().stderr).toBe('\nsightline: stopping after the current batch…\n');
  }, 20_000);
});
