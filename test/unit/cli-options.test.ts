import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { modelLabel } from '../../src/cli/options.js';

describe('modelLabel: how --model is written into results and reports', () => {
  it('keeps default, resolves paths, and drops credentials and query values from URLs', () => {
    expect(modelLabel('default')).toBe('default');
    expect(modelLabel('models/net.onnx')).toBe(resolve('models/net.onnx'));
    expect(modelLabel('https://user:secret@api.example.test:8443/v1/predict?key=abc123&mode=fast')).toBe(
      'https://api.example.test:8443/v1/predict?key=…&mode=…',
    );
  });
});
