import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { MAX_MESSAGE_LENGTH, reportError } from '../../src/cli/errors.js';
import { SightlineError } from '../../src/core/errors.js';

function report(error: unknown): { code: number; text: string } {
  const stream = new PassThrough();
  const code = reportError(error, stream);
  return { code, text: String(stream.read() ?? '') };
}

describe('reportError', () => {
  it('prints a SightlineError as one line and maps its code to the exit code', () => {
    expect(report(new SightlineError('IMAGE_DECODE', "Cannot decode 'a.png'."))).toEqual({
      code: 3,
      text: "sightline: Cannot decode 'a.png'.\n",
    });
    expect(report(new SightlineError('MODEL_LOAD', 'x')).code).toBe(4);
  });

  it('cuts a message listing 100,000 entries to MAX_MESSAGE_LENGTH and says so', () => {
    const names = Array.from({ length: 100_000 }, (_, i) => `entry-${i}.bin`).join(', ');
    const { code, text } = report(new SightlineError('INVALID_ARGUMENT', `The zip holds ${names}.`));
    expect(code).toBe(2);
    expect(names.length).toBeGreaterThan(1_500_000);
    expect(text.length).toBeLessThan(MAX_MESSAGE_LENGTH + 100);
    expect(text).toMatch(/^sightline: The zip holds entry-0\.bin, entry-1\.bin, /);
    expect(text).toMatch(/ … \(cut: 1,[0-9]{3},[0-9]{3} characters in all\)\n$/);
  });

  it('escapes control characters from file names and server replies', () => {
    const { text } = report(new SightlineError('IO', "Cannot read '\u001b]0;owned\u0007\u009b2J.png'."));
    expect(text).toBe("sightline: Cannot read '\\x1b]0;owned\\x07\\x9b2J.png'.\n");
  });

  it('prints anything else as an unexpected error with its stack, cut and escaped alike', () => {
    const { code, text } = report(new Error(`bad \u001b[31m${'x'.repeat(10_000)}`));
    expect(code).toBe(1);
    expect(text.startsWith('sightline: unexpected error: Error: bad \\x1b[31mxxx')).toBe(true);
    expect(text.length).toBeLessThan(MAX_MESSAGE_LENGTH + 100);
    expect(report('a string').text).toBe('sightline: unexpected error: a string\n');
  });
});
