// SIGHTLINE_THREADS pins ONNX Runtime's threads per session (sightline worker --threads sets it): read as a whole
// number, refused in words otherwise, and absent means ONNX Runtime's own choice.
import { describe, expect, it } from 'vitest';
import { sessionThreads } from '../../src/models/load.js';

describe('SIGHTLINE_THREADS', () => {
  it('is ONNX Runtime’s choice when unset or empty', () => {
    expect(sessionThreads({})).toBeUndefined();
    expect(sessionThreads({ SIGHTLINE_THREADS: '' })).toBeUndefined();
  });

  it('reads a whole number of threads', () => {
    expect(sessionThreads({ SIGHTLINE_THREADS: '1' })).toBe(1);
    expect(sessionThreads({ SIGHTLINE_THREADS: '16' })).toBe(16);
  });

  it.each(['0', '-2', '1.5', 'two', '4096'])('refuses %s, naming the variable and what it takes', (value) => {
    expect(() => sessionThreads({ SIGHTLINE_THREADS: value })).toThrow(
      /SIGHTLINE_THREADS.*whole number of threads from 1 to 1024/,
    );
  });
});
