import { isIP } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError, Option } from 'commander';
import { defaultModelFiles } from '../models/default-model.js';
import { startServer } from '../server/serve.js';

/** The built web app, next to the built CLI (dist/cli/serve.js → dist/web/). */
const WEB_ROOT = fileURLToPath(new URL('../web/', import.meta.url));

interface ServeFlags {
  port: number;
  host: string;
  open?: boolean;
  root?: string;
  allowHost: string[];
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value.trim()) || port > 65535) {
    const error = new InvalidArgumentError(
      `expected a port number from 0 to 65535 (0 = any free port), got '${value}'`,
    );
    error.exitCode = 2; // usage error, as in EXIT_CODES
    throw error;
  }
  return port;
}

/** 127.0.0.0/8, ::1 and 'localhost' are reachable only from this machine. */
function isLoopback(host: string): boolean {
  const address = host.toLowerCase().replace(/^::ffff:/, '');
  if (address === 'localhost' || address === '::1') return true;
  return isIP(address) === 4 && address.startsWith('127.');
}

export function serveCommand(): Command {
  return new Command('serve')
    .description('Serve the web app: explain photos in the browser, where the photo and the model stay.')
    .option('-p, --port <n>', 'port to listen on (0 = any free port)', parsePort, 8080)
    .option(
      '--host <addr>',
      'address to listen on (anything but loopback opens the app to the network)',
      '127.0.0.1',
    )
    .option(
      '--allow-host <name>',
      'also answer requests addressed to this host name (repeatable); localhost, IP addresses and --host always work',
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .option('--open', 'open the app in the default browser')
    .addOption(new Option('--root <dir>', 'serve this built web app instead of the bundled one').hideHelp())
    .action(async (flags: ServeFlags) => {
      const model = defaultModelFiles();
      const server = await startServer({
        root: flags.root ?? WEB_ROOT,
        host: flags.host,
        port: flags.port,
        allowedHosts: flags.allowHost,
        files: { '/models/default/graph.lite': model.model, '/models/default/labels.txt': model.labels },
      });
      const stopped = new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      if (!isLoopback(flags.host)) {
        process.stderr.write(
          `Warning: '${flags.host}' is not a loopback address, so anyone who can reach this machine on the network can open the app.\n`,
        );
      }
      process.stdout.write(
        `Sightline is running at ${server.url} — the photo and the model stay in your browser. Press Ctrl-C to stop.\n`,
      );
      if (flags.open) await openBrowser(server.url);
      await stopped;
      await server.close();
    });
}

async function openBrowser(url: string): Promise<void> {
  try {
    const { default: open } = await import('open');
    const child = await open(url);
    child.once('error', (error) => note(url, error));
  } catch (error) {
    note(url, error);
  }
}

function note(url: string, error: unknown): void {
  const reason = error instanceof Error ? error.message : String(error);
  process.stderr.write(`Note: could not open a browser (${reason}); open ${url} yourself.\n`);
}
