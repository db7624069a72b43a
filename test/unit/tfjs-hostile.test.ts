// TF.js models from untrusted folders and servers: weight paths that reach outside the model's folder, special
// files, and files or answers larger than the manifest declares. Each must fail with MODEL_LOAD, quickly, having
// read nothing it should not.
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, symlink, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SightlineError } from '../../src/core/errors.js';
import { formatCount } from '../../src/core/text.js';
import { loadModel } from '../../src/models/load.js';
import { readTfjsSource } from '../../src/models/tfjs.js';
import { MAX_TFJS_WEIGHT_FILES } from '../../src/models/tfjs-source.js';

/** A Layers model.json whose one weight is two float32 values (8 bytes) in the files `paths`. */
function modelJson(paths: string[], shape = [2]): string {
  return JSON.stringify({
    format: 'layers-model',
    modelTopology: { class_name: 'Sequential', config: { layers: [] } },
    weightsManifest: [{ paths, weights: [{ name: 'dense/kernel', shape, dtype: 'float32' }] }],
  });
}

const WEIGHTS = new Uint8Array(new Float32Array([1.5, -2]).buffer);

let dir: string;
let count = 0;

/** A fresh folder with model.json (and weights.bin unless `files` says otherwise). */
async function folder(json: string, files: Record<string, Uint8Array | string> = {}): Promise<string> {
  const at = join(dir, `m${count++}`);
  await mkdir(at);
  await writeFile(join(at, 'model.json'), json);
  for (const [name, bytes] of Object.entries(files)) await writeFile(join(at, name), bytes);
  return at;
}

async function refusal(promise: Promise<unknown>): Promise<SightlineError> {
  const started = performance.now();
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(performance.now() - started).toBeLessThan(10_000);
  expect(error).toBeInstanceOf(SightlineError);
  return error as SightlineError;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sightline-tfjs-hostile-'));
});

describe('a TF.js model folder', () => {
  it('reads weights beside model.json, and through a symlink that stays in the folder', async () => {
    const at = await folder(modelJson(['shards/w.bin']), { 'real.bin': WEIGHTS });
    await mkdir(join(at, 'shards'));
    await symlink(join(at, 'real.bin'), join(at, 'shards', 'w.bin'));
    const source = await readTfjsSource(at);
    expect([...source.artifacts.groups[0]]).toEqual([...WEIGHTS]);
  });

  it.each([
    ['../../etc/passwd', "climbs out of the model's folder with '..'"],
    ['shards/../../../etc/passwd', "climbs out of the model's folder with '..'"],
    ['%2e%2e/%2e%2e/etc/passwd', "climbs out of the model's folder with '..'"],
    ['..%2f..%2fetc%2fpasswd', "climbs out of the model's folder with '..'"],
    ['/etc/passwd', 'is an absolute path'],
    ['%2fetc%2fpasswd', 'is an absolute path'],
    ['file:///etc/passwd', 'is a URL or a drive path'],
    ['http://127.0.0.1:1/w.bin', 'is a URL or a drive path'],
    ['C:\\Windows\\win.ini', 'holds a backslash or NUL'],
    ['%zz', 'holds a malformed %-escape'],
  ])('refuses the weight path %s before opening anything', async (path, why) => {
    const at = await folder(modelJson([path]));
    const error = await refusal(readTfjsSource(at));
    expect(error.code).toBe('MODEL_LOAD');
    expect(error.message).toBe(
      `The TF.js model '${join(at, 'model.json')}' lists weight file ${JSON.stringify(path)}, which ${why}; weight paths must name files beside model.json (or in folders below it).`,
    );
  });

  it('refuses a symlink out of the folder, to a file or to /dev/zero, without reading it', async () => {
    for (const target of ['/etc/passwd', '/dev/zero', join(dir, 'outside.bin')]) {
      await writeFile(join(dir, 'outside.bin'), WEIGHTS);
      const at = await folder(modelJson(['w.bin']));
      await symlink(target, join(at, 'w.bin'));
      const error = await refusal(readTfjsSource(at));
      expect(error.message).toBe(
        `'${join(at, 'w.bin')}' leads outside the folder of '${join(at, 'model.json')}' (it resolves to a file elsewhere); a TF.js model's files must lie in its folder.`,
      );
    }
  });

  it('refuses a FIFO as weights, model.json or zip at once (no writer ever comes)', async () => {
    const at = await folder(modelJson(['w.bin']));
    execFileSync('mkfifo', [join(at, 'w.bin')]);
    expect((await refusal(readTfjsSource(at))).message).toBe(
      `'${join(at, 'w.bin')}' is not a regular file (a device, FIFO or socket); a TF.js model's files must be regular files.`,
    );
    const fifoJson = join(dir, `fifo${count++}`);
    await mkdir(fifoJson);
    execFileSync('mkfifo', [join(fifoJson, 'model.json')]);
    expect((await refusal(readTfjsSource(fifoJson))).message).toMatch(/model\.json' is not a regular file/);
    execFileSync('mkfifo', [join(dir, 'fifo.zip')]);
    expect((await refusal(readTfjsSource(join(dir, 'fifo.zip')))).message).toMatch(
      /fifo\.zip' is not a regular file/,
    );
  });

  it('refuses model.json or a .zip that is a link to /dev/zero', async () => {
    await symlink('/dev/zero', join(dir, 'zero.json'));
    await symlink('/dev/zero', join(dir, 'zero.zip'));
    for (const name of ['zero.json', 'zero.zip'])
      expect((await refusal(readTfjsSource(join(dir, name)))).message).toMatch(/is not a regular file/);
  });

  it('reads no further than the manifest declares', async () => {
    const at = await folder(modelJson(['w.bin']), { 'w.bin': new Uint8Array(1024 * 1024) });
    expect((await refusal(readTfjsSource(at))).message).toBe(
      `The weight files 'w.bin' of '${join(at, 'model.json')}' hold more than 8 bytes; the manifest describes 8.`,
    );
  });

  it('refuses a manifest declaring more weights than the limit before reading any', async () => {
    const at = await folder(modelJson(['w.bin'], [1024, 1024, 1024]));
    expect((await refusal(readTfjsSource(at))).message).toBe(
      `The TF.js model '${join(at, 'model.json')}' declares 4096 MB of weights, over the limit of 512 MB; Sightline reads a model's weights into memory whole.`,
    );
  });

  it(`refuses a manifest listing more than ${MAX_TFJS_WEIGHT_FILES} weight files before opening any`, async () => {
    // 200,000 names of one empty file in a 1.6 MB model.json took 75 s of opening it again and again.
    const paths = Array.from({ length: MAX_TFJS_WEIGHT_FILES + 1 }, () => 'w.bin');
    const at = await folder(modelJson(paths), {});
    const error = await refusal(readTfjsSource(at));
    expect(error.message).toBe(
      `The TF.js model '${join(at, 'model.json')}' lists ${formatCount(MAX_TFJS_WEIGHT_FILES + 1)} weight files, over the limit of ${formatCount(MAX_TFJS_WEIGHT_FILES)}; a model's weights come in a few files (a large Graph model's, in a few hundred).`,
    );
  });

  it("names at most a few of a group's weight files when their sizes do not add up", async () => {
    const at = await folder(modelJson(Array.from({ length: 50 }, () => 'w.bin')), { 'w.bin': '' });
    const error = await refusal(readTfjsSource(at));
    expect(error.message).toBe(
      `The weight files 'w.bin', 'w.bin', 'w.bin' … and 47 more of '${join(at, 'model.json')}' hold 0 bytes; the manifest describes 8.`,
    );
  });

  it('refuses a manifest whose shapes are not whole numbers', async () => {
    const at = await folder(modelJson(['w.bin'], [-1, Number.POSITIVE_INFINITY]), { 'w.bin': WEIGHTS });
    expect((await refusal(readTfjsSource(at))).message).toMatch(/has a malformed 'weightsManifest'/);
  });

  it('the refusal of ../../etc/passwd says nothing about that file', async () => {
    const at = await folder(modelJson(['../../../../../../etc/passwd']));
    const passwd = await readFile('/etc/passwd');
    const error = await refusal(readTfjsSource(at));
    expect(error.message).not.toContain(String(passwd.byteLength));
  });
});

describe('a TF.js model on a server', () => {
  let server: Server;
  let base: string;
  const routes = new Map<string, (req: IncomingMessage, res: ServerResponse) => void>();

  beforeAll(async () => {
    server = createServer((req, res) => {
      const route = routes.get(new URL(req.url ?? '/', 'http://x').pathname);
      if (route) return route(req, res);
      res.writeHead(404);
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const endless = (_req: IncomingMessage, res: ServerResponse) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const chunk = Buffer.alloc(64 * 1024);
      const pump = () => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
    };
    routes.set('/endless/model.json', (_req, res) => res.end(modelJson(['w.bin'])));
    routes.set('/endless/w.bin', endless);
    routes.set('/declared/model.json', (_req, res) => res.end(modelJson(['w.bin'])));
    routes.set('/declared/w.bin', (_req, res) => {
      // Declares 3 GB and sends a little: the declaration alone is refused.
      res.writeHead(200, { 'content-length': String(3 * 1024 ** 3) });
      res.write(Buffer.alloc(1024));
    });
    routes.set('/json/model.json', endless);
    routes.set('/ok/model.json', (_req, res) => res.end(modelJson(['w.bin'])));
    routes.set('/ok/w.bin', (_req, res) => res.end(Buffer.from(WEIGHTS)));
    routes.set('/away/model.json', (_req, res) => res.end(modelJson(['//127.0.0.2/w.bin'])));
    // A URL parser drops tabs and line breaks anywhere in a URL, and spaces at its ends, so '.\t.' or ' ..'
    // resolves as '..' on a server.
    routes.set('/deep/m/model.json', (_req, res) => res.end(modelJson(['.\t./.\n./private.bin'])));
    routes.set('/deep/s/model.json', (_req, res) => res.end(modelJson([' ../../private.bin'])));
    routes.set('/private.bin', (_req, res) => res.end(Buffer.from(WEIGHTS)));
    routes.set('/cut/model.json', (_req, res) => res.end(modelJson(['w.bin'])));
    routes.set('/cut/w.bin', (_req, res) => {
      // Promises 8 bytes, sends 4, and drops the connection: the body's stream fails mid-read.
      res.writeHead(200, { 'content-length': '8' });
      res.write(Buffer.from(WEIGHTS.subarray(0, 4)), () => res.destroy());
    });
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('reads a well-formed model', async () => {
    const source = await readTfjsSource(`${base}/ok/model.json`);
    expect([...source.artifacts.groups[0]]).toEqual([...WEIGHTS]);
  });

  it('stops an endless weights body past what the manifest declares', async () => {
    const error = await refusal(readTfjsSource(`${base}/endless/model.json`));
    expect(error.message).toMatch(
      new RegExp(
        `^'${base}/endless/w\\.bin' holds \\d+ bytes or more, over the limit of 8 bytes for this file`,
      ),
    );
  });

  it('refuses a Content-Length of 3 GB without reading the body', async () => {
    const error = await refusal(readTfjsSource(`${base}/declared/model.json`));
    expect(error.message).toMatch(
      new RegExp(
        `^'${base}/declared/w\\.bin' holds 3072 MB or more, over the limit of 8 bytes for this file`,
      ),
    );
  });

  it('stops an endless model.json at 64 MB', async () => {
    const error = await refusal(readTfjsSource(`${base}/json/model.json`));
    expect(error.message).toMatch(/holds 64 MB or more, over the limit of 64 MB for this file/);
  });

  it('a connection dropped mid-body is a MODEL_LOAD error naming the file, not a crash', async () => {
    const error = await refusal(readTfjsSource(`${base}/cut/model.json`));
    expect(error.code).toBe('MODEL_LOAD');
    expect(error.message).toMatch(
      new RegExp(`^Cannot fetch '${base}/cut/w\\.bin': the answer broke off after 4 bytes`),
    );
  });

  it.each([
    ['m', '".\\t./.\\n./private.bin", which holds a control character'],
    ['s', '" ../../private.bin", which starts or ends with a space'],
  ])('refuses a path that a URL parser turns into .. (model %s)', async (model, why) => {
    const error = await refusal(readTfjsSource(`${base}/deep/${model}/model.json`));
    expect(error.message).toBe(
      `The TF.js model '${base}/deep/${model}/model.json' lists weight file ${why}; weight paths must name files beside model.json (or in folders below it).`,
    );
  });

  it.each(['http://[x/model.json', 'http://', 'https://a b/model.json'])(
    'a malformed URL %s is a usage error, not a crash',
    async (url) => {
      const error = await refusal(loadModel(url));
      expect(error.code).toBe('INVALID_ARGUMENT');
      expect(error.message).toBe(`Argument 'model' must be an http(s) URL; got "(an invalid URL)".`);
    },
  );

  it('never quotes the credentials of a model.json URL: user info is refused, query values are redacted', async () => {
    const withUser = await refusal(readTfjsSource(`http://alice:hunter2pass@${base.slice(7)}/ok/model.json`));
    expect(withUser.code).toBe('INVALID_ARGUMENT');
    expect(withUser.message).not.toContain('hunter2pass');
    expect(withUser.message).toContain(`got "${base}/ok/model.json"`);
    const withToken = await refusal(readTfjsSource(`${base}/missing/model.json?token=SECRET-TOKEN-42`));
    expect(withToken.message).toBe(
      `Cannot read the TF.js model: '${base}/missing/model.json?token=[redacted]' does not exist (a TF.js model is a folder with model.json and its weight files).`,
    );
    const source = await readTfjsSource(`${base}/ok/model.json?token=SECRET-TOKEN-42`);
    expect(source.location).toBe(`${base}/ok/model.json?token=…`);
  });

  it('refuses weights on another host', async () => {
    const error = await refusal(readTfjsSource(`${base}/away/model.json`));
    expect(error.message).toMatch(/lists weight file "\/\/127\.0\.0\.2\/w\.bin", which is an absolute path/);
  });
});
