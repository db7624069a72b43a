import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 600_000,
    // ONNX Runtime sessions already use both cores; parallel files would only fight over them.
    fileParallelism: false,
  },
});
