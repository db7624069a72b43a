// The web app's end-to-end tests' start: `sightline serve` on a free port (the built dist/), and Debian's
// headless Chromium.
import { type ChildProcess, spawn } from 'node:child_process';
import { type Browser, chromium } from 'playwright-core';
import { CLI } from './cli.js';

export const CHROMIUM = '/usr/bin/chromium';

/** Starts `sightline serve --port 0`; resolves with its origin once it says where it runs. */
export function startServe(): Promise<{ server: ChildProcess; origin: string }> {
  const server = spawn(process.execPath, [CLI, 'serve', '--port', '0']);
  return new Promise((resolve, reject) => {
    let out = '';
    server.stdout?.on('data', (d) => {
      out += d;
      const m = /running at (http:\/\/[^/\s]+)\//.exec(out);
      if (m) resolve({ server, origin: m[1] });
    });
    server.stderr?.on('data', (d) => {
      out += d;
    });
    server.on('close', () => reject(new Error(`sightline serve exited early:\n${out}`)));
  });
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}
