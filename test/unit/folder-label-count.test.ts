// The folder labels check as a pure function (models/onnx-support.ts), shared by the command line's folder
// loader and the web app's dropped folders (issue 13 review: the page had no such check): a config naming
// another number of classes than the ONNX file gives scores is refused, naming both counts and the field.
import { describe, expect, it } from 'vitest';
import type { ModelTask } from '../../src/core/model.js';
import type { FolderConfig } from '../../src/models/hf-config.js';
import { refuseFolderLabelCount } from '../../src/models/onnx-support.js';

const folder = (kind: FolderConfig['kind'], count: number): FolderConfig => ({
  kind,
  hints: { labels: Array.from({ length: count }, (_, i) => `c${i}`) },
  preprocessing: '',
});
const check = (f: FolderConfig, task: ModelTask, outputShape?: readonly number[]) => () =>
  refuseFolderLabelCount(f, { task, outputShape }, 'onnx/model.onnx', 'name them another way.');

describe('refuseFolderLabelCount', () => {
  it('id2label of 3 names for 5 scores is refused, naming both counts, the file and what to do', () => {
    expect(check(folder('huggingface', 3), 'classify', [5])).toThrow(
      "The folder's config.json names 3 classes (id2label), but 'onnx/model.onnx' gives 5 scores per image; expected one name per score: is the config from the same checkpoint as the ONNX file? (name them another way.)",
    );
  });

  it("a timm folder's field is label_names; a tagger's and a scorer's counts are their outputs", () => {
    expect(check(folder('timm', 4), 'multilabel', [2])).toThrow(
      /names 4 classes \(label_names\), but 'onnx\/model\.onnx' gives 2 scores per image/,
    );
    expect(check(folder('huggingface', 2), 'score', [1])).toThrow(/gives 1 scores per image/);
    expect(check(folder('huggingface', 1), 'score', [1])).not.toThrow();
  });

  it("a segmenter's count is its classes per pixel (the first dimension), not every output value", () => {
    expect(check(folder('huggingface', 3), 'segment', [3, 8, 8])).not.toThrow();
    expect(check(folder('huggingface', 2), 'segment', [3, 8, 8])).toThrow(
      /names 2 classes \(id2label\), but 'onnx\/model\.onnx' gives 3 classes per pixel; expected one name per class/,
    );
  });

  it('the count that matches, an embedding, a detector and an output of unknown size pass', () => {
    expect(check(folder('huggingface', 5), 'classify', [5])).not.toThrow();
    expect(check(folder('huggingface', 2), 'embed', [192])).not.toThrow();
    expect(check(folder('huggingface', 80), 'detect', [84, 8400])).not.toThrow();
    expect(check(folder('huggingface', 3), 'classify', undefined)).not.toThrow();
  });

  it('the error is a model problem (MODEL_LOAD) with both counts in its details', () => {
    try {
      check(folder('huggingface', 3), 'classify', [5])();
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({ code: 'MODEL_LOAD', details: { labels: 3, scores: 5 } });
    }
  });
});
