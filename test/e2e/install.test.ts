/**
 * Installing Sightline as a user does: the project's own npm commands print no warning, and the packed
 * tarball installs into a new project the way the README says (one allowScripts line, so onnxruntime-node's
 * postinstall does not fetch CUDA files from outside the npm registry), without TF.js, and its CLI runs.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { TFJS_PACKAGES } from '../../src/engines/tfjs/runtime.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const pkg = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as {
  version: string;
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional?: boolean }>;
};

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * A command as a user runs it: `npm test` exports the repository's npm settings as npm_config_* variables,
 * which would leak into the new project (a skip flag for onnxruntime-node's download among them).
 */
function sh(
  command: string,
  args: string[],
  cwd: string,
  options: { timeout?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<Run> {
  const inherited = Object.entries(process.env).filter(
    ([k]) => !/^npm_/i.test(k) && !/^ONNXRUNTIME_NODE_INSTALL/i.test(k),
  );
  const env = { ...Object.fromEntries(inherited), ...options.env };
  const timeout = options.timeout ?? 240_000;
  return new Promise((resolve) => {
    execFile(command, args, { cwd, env, timeout, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
    });
  });
}

const npm = (args: string[], cwd: string) => sh('npm', args, cwd);

let scratch: string | undefined;
afterAll(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe('installing Sightline', () => {
  it("the repository's npm setup warns about nothing: every config known, every install script reviewed", async () => {
    const config = await npm(['config', 'get', 'legacy-peer-deps'], REPO);
    expect(config.code, config.stderr).toBe(0);
    expect(config.stdout).toBe('true\n');
    expect(config.stderr).toBe('');
    // What `npm ci` would otherwise end with: a package whose install script allowScripts neither allows nor denies.
    const scripts = await npm(['install-scripts', 'ls'], REPO);
    expect(scripts.code, scripts.stderr).toBe(0);
    expect(scripts.stdout).toBe('No packages with unreviewed install scripts.\n');
    expect(scripts.stderr).toBe('');
  });

  it("the missing-TF.js message names package.json's optional peer dependencies, by major version", () => {
    const declared = Object.entries(pkg.peerDependencies)
      .map(([name, range]) => `${name}@${/^\^(\d+)\./.exec(range)?.[1]}`)
      .sort();
    expect([...TFJS_PACKAGES].sort()).toEqual(declared);
    for (const name of Object.keys(pkg.peerDependencies)) {
      expect(pkg.peerDependenciesMeta[name]?.optional, name).toBe(true);
    }
  });

  it('the packed tarball installs in a new project with the README line, from the npm cache, and runs', async (ctx) => {
    scratch = await mkdtemp(join(tmpdir(), 'sightline-install-'));
    // dist/ is built by `npm test` (and `npm run build`) before the tests run; packing does not rebuild it.
    const packed = await npm(['pack', '--ignore-scripts', '--json', '--pack-destination', scratch], REPO);
    expect(packed.code, packed.stderr).toBe(0);
    const tarball = join(scratch, (JSON.parse(packed.stdout) as { filename: string }[])[0].filename);

    const app = join(scratch, 'app');
    await mkdir(app);
    await writeFile(
      join(app, 'package.json'),
      JSON.stringify({ name: 'app', version: '1.0.0', private: true }),
    );
    // The README's line, as written there.
    const allow = await npm(
      ['pkg', 'set', 'allowScripts.onnxruntime-node=false', 'allowScripts.msgpackr-extract=false', '--json'],
      app,
    );
    expect(allow.code, allow.stderr).toBe(0);
    const install = await npm(['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], app);
    const output = `${install.stdout}${install.stderr}`;
    const unreachable =
      /^npm error code (ENOTCACHED|EAI_AGAIN|ENOTFOUND|ECONNREFUSED|ECONNRESET|ETIMEDOUT)$/m.exec(output);
    if (install.code !== 0 && unreachable) {
      ctx.skip(
        `the npm cache lacks a package and the registry is unreachable (${unreachable[1]}); run npm ci once with the registry`,
      );
    }
    expect(install.code, output).toBe(0);
    // npm's one notice for a tarball (not a registry) install: it lists Sightline's own prepare (the build,
    // which npm does not run for a tarball). Nothing else warns.
    const warnings = output.split('\n').filter((line) => /^npm warn/.test(line));
    expect(
      warnings.filter((line) => !/^npm warn install-scripts/.test(line)),
      output,
    ).toEqual([]);
    const listed = warnings.flatMap((line) => /^npm warn install-scripts {3}(\S+)@/.exec(line)?.[1] ?? []);
    expect(listed, output).toEqual(['sightline']);

    const modules = join(app, 'node_modules');
    // onnxruntime-node's postinstall did not run: it would have added the CUDA provider here.
    const ortBin = join(modules, 'onnxruntime-node', 'bin', 'napi-v6', 'linux', 'x64');
    if (process.platform === 'linux' && process.arch === 'x64') {
      expect(existsSync(join(ortBin, 'libonnxruntime.so.1'))).toBe(true);
      expect(existsSync(join(ortBin, 'libonnxruntime_providers_cuda.so'))).toBe(false);
    }
    // TF.js is an optional peer. The default model's files come inside Sightline, not in their React Native
    // package, whose react and react-native peers a later `npm install` here would otherwise add (180 MB).
    expect(existsSync(join(modules, '@tensorflow'))).toBe(false);
    expect(await readFile(join(app, 'package-lock.json'), 'utf8')).not.toMatch(/react-native|"react"/);

    const version = await sh('npx', ['sightline', '--version'], app, { timeout: 60_000 });
    expect(version.code, version.stderr).toBe(0);
    expect(version.stdout).toBe(`${pkg.version}\n`);
    expect(version.stderr).toBe('');

    // The embedded model, from the installed package's own files.
    const photo = join(REPO, 'examples', 'chelsea.png');
    const explained = await sh(
      'npx',
      ['sightline', 'explain', photo, '--method', 'grad-cam', '--out', join(scratch, 'cat.png')],
      app,
      { timeout: 120_000, env: { SIGHTLINE_CACHE_DIR: join(scratch, 'cache') } },
    );
    expect(explained.code, explained.stderr).toBe(0);
    expect(explained.stdout).toMatch(/^Top 5 predictions for .*\n +\d+\.\d% {2}Egyptian cat \(286\)$/m);
    expect(explained.stderr).not.toMatch(/warn/i);
  }, 300_000);
});
