// Sessions opened in the calling thread keep ORT's spinning within a run but stop it when the run ends
// (open-session.ts says what it cost otherwise); a caller's own setting is kept.
import { describe, expect, it } from 'vitest';
import { stopSpinningAfterRuns } from '../../src/engines/onnx/open-session.js';

describe('stopSpinningAfterRuns', () => {
  it('adds session.force_spinning_stop and keeps the other options', () => {
    expect(stopSpinningAfterRuns({ intraOpNumThreads: 2, graphOptimizationLevel: 'all' })).toEqual({
      intraOpNumThreads: 2,
      graphOptimizationLevel: 'all',
      extra: { session: { force_spinning_stop: '1' } },
    });
  });

  it("keeps a caller's extra entries, and its own force_spinning_stop over the default", () => {
    const options = {
      extra: { session: { intra_op: { allow_spinning: '0' } }, optimization: { x: '1' } },
    };
    expect(stopSpinningAfterRuns(options)).toEqual({
      extra: {
        optimization: { x: '1' },
        session: { force_spinning_stop: '1', intra_op: { allow_spinning: '0' } },
      },
    });
    expect(stopSpinningAfterRuns({ extra: { session: { force_spinning_stop: '0' } } }).extra).toEqual({
      session: { force_spinning_stop: '0' },
    });
  });
});
