// A folder whose config names another number of classes than its ONNX file gives scores (a config from one
// checkpoint beside another's export, or a head with a background class) would label every score with the
// wrong name, or leave some unnamed, with no word said. It is refused at load, naming both counts; --labels
// (the user's own list) is not second-guessed here.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../src/models/load.js';

const root = mkdtempSync(join(tmpdir(), 'sightline-hf-labels-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The hf-vit fixture (5 classes) with its config's id2label replaced. */
function withLabels(names: string[]): string {
  const dir = join(root, `n${names.length}`);
  cpSync('test/fixtures/hf/hf-vit', dir, { recursive: true });
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  config.id2label = Object.fromEntries(names.map((n, i) => [String(i), n]));
  config.label2id = Object.fromEntries(names.map((n, i) => [n, i]));
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  return dir;
}

describe("a folder's labels against its model's outputs", () => {
  it.each([2, 6])('id2label of %i names for 5 scores is refused naming both counts', async (count) => {
    const dir = withLabels(Array.from({ length: count }, (_, i) => `c${i}`));
    await expect(loadModel(dir)).rejects.toMatchObject({
      code: 'MODEL_LOAD',
      message: expect.stringContaining(`config.json names ${count} classes (id2label), but`),
    });
    await expect(loadModel(dir)).rejects.toThrow(/gives 5 scores per image/);
  });

  it("an embedding's outputs are not classes: transformers' default id2label (LABEL_0, LABEL_1) is no mismatch", async () => {
    const model = await loadModel(withLabels(['LABEL_0', 'LABEL_1']), { task: 'embed' });
    expect(model.spec.task).toBe('embed');
    await model.dispose();
  });

  it('the same names as scores load, and --labels of another count is the user’s to give', async () => {
    const dir = withLabels(['a', 'b', 'c', 'd', 'e']);
    const model = await loadModel(dir);
    expect(model.spec.labels).toEqual(['a', 'b', 'c', 'd', 'e']);
    await model.dispose();
    const told = await loadModel(withLabels(['x', 'y']), { labels: ['p', 'q', 'r', 's', 't'] });
    expect(told.spec.labels).toHaveLength(5);
    await told.dispose();
  });
});
