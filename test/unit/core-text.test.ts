import { describe, expect, it } from 'vitest';
import { invalidArgument } from '../../src/core/errors.js';
import { capText, formatCount, listSome, terminalSafe, terminalSafeJson } from '../../src/core/text.js';

describe('terminalSafe', () => {
  it('escapes the bidirectional controls that would reorder a name on screen (Trojan Source)', () => {
    // Shown raw, RLO makes the terminal print "photoexe.png" for a name that ends in ".exe".
    expect(terminalSafe('photo\u202egnp.exe', { oneLine: true })).toBe('photo\\u202egnp.exe');
    expect(terminalSafe('a\u2066b\u2069c\u200fd\u061ce')).toBe('a\\u2066b\\u2069c\\u200fd\\u061ce');
    expect(terminalSafe('one\u2028two', { oneLine: true })).toBe('one\\u2028two');
    // Arabic and Hebrew letters themselves are text, not controls.
    expect(terminalSafe('قطة חתול', { oneLine: true })).toBe('قطة חתול');
    const json = terminalSafeJson(JSON.stringify({ file: 'x\u202ey' }));
    expect(json).toBe('{"file":"x\\u202ey"}');
    expect(JSON.parse(json)).toEqual({ file: 'x\u202ey' });
  });

  it('writes out ESC, so a colour, a cursor move or a window title become visible text', () => {
    expect(terminalSafe('\u001b[31mred\u001b[0m.png')).toBe('\\x1b[31mred\\x1b[0m.png');
    expect(terminalSafe('\u001b]0;owned\u0007')).toBe('\\x1b]0;owned\\x07');
    expect(terminalSafe('a\u001b[2Kb')).not.toContain('\u001b');
  });

  it('escapes every C0 control but tab and line feed, DEL, and every C1 control', () => {
    for (let code = 0; code < 0xa0; code++) {
      const c = String.fromCharCode(code);
      const out = terminalSafe(`x${c}y`);
      const control = code < 0x20 || (code >= 0x7f && code <= 0x9f);
      if (code === 0x09 || code === 0x0a) expect(out).toBe(`x${c}y`);
      else if (code === 0x0d) expect(out).toBe('x\\ry');
      else if (control) expect(out).toBe(`x\\x${code.toString(16).padStart(2, '0')}y`);
      else expect(out).toBe(`x${c}y`);
    }
    // The one-character CSI of C1.
    expect(terminalSafe('\u009b2J')).toBe('\\x9b2J');
  });

  it('with oneLine, also writes out line feeds and tabs (a name cannot forge a line)', () => {
    expect(terminalSafe('a.png\nsightline: all good\tok', { oneLine: true })).toBe(
      'a.png\\nsightline: all good\\tok',
    );
  });

  it('leaves printable text alone, accents, CJK and emoji included', () => {
    const text = 'Café 猫 🐈 "quoted" \\x1b as typed';
    expect(terminalSafe(text)).toBe(text);
  });
});

describe('listSome', () => {
  it('lists all items when there are at most max', () => {
    expect(listSome(['a', 'b', 'c'], 3)).toBe('a, b, c');
    expect(listSome([], 3)).toBe('');
  });

  it('shows max items and counts the rest, with thousands separators', () => {
    const items = Array.from({ length: 100_000 }, (_, i) => `f${i}`);
    expect(listSome(items, 3)).toBe('f0, f1, f2 … and 99,997 more');
    expect(listSome(items).length).toBeLessThan(100);
    expect(listSome(['a', 'b'], 1, '; ')).toBe('a … and 1 more');
    expect(listSome(['a', 'b'], 0)).toBe('a … and 1 more');
  });
});

describe('capText', () => {
  it('keeps text that fits and cuts text that does not, saying so', () => {
    expect(capText('short', 10)).toBe('short');
    const long = 'x'.repeat(1_500_000);
    const cut = capText(long, 2000);
    expect(cut.length).toBeLessThan(2100);
    expect(cut).toBe(`${'x'.repeat(2000)} … (cut: 1,500,000 characters in all)`);
  });

  it('never splits a surrogate pair', () => {
    const cut = capText(`ab${'🐈'.repeat(10)}`, 3);
    expect(cut.startsWith('ab …')).toBe(true);
  });
});

describe('formatCount', () => {
  it('groups thousands the same in every locale', () => {
    expect([0, 7, 999, 1000, 99_997, 1_234_567].map(formatCount)).toEqual([
      '0',
      '7',
      '999',
      '1,000',
      '99,997',
      '1,234,567',
    ]);
  });
});

describe('terminalSafeJson', () => {
  it('escapes DEL and C1 controls inside JSON strings and keeps the same value', () => {
    const value = { file: 'a\u009b2J\u007f\u001b[0m.png', n: 1 };
    const json = terminalSafeJson(JSON.stringify(value));
    expect([...json].filter((c) => c.charCodeAt(0) < 0x20 || (c >= '\u007f' && c <= '\u009f'))).toEqual([]);
    expect(JSON.parse(json)).toEqual(value);
  });
});

describe('invalidArgument quoting what came', () => {
  it('shortens a list of 100,000 values and a string of a million characters', () => {
    const list = invalidArgument(
      'points',
      'a short list',
      Array.from({ length: 100_000 }, (_, i) => i),
    ).message;
    expect(list).toBe(
      "Argument 'points' must be a short list; got [0, 1, 2, 3, 4, 5, 6, 7, 8, 9 … and 99,990 more].",
    );
    const text = invalidArgument('name', 'a name', 'x'.repeat(1_000_000)).message;
    expect(text.length).toBeLessThan(300);
    expect(text).toContain('(cut: 1,000,002 characters in all)');
    expect(invalidArgument('n', 'a list', [1, 'a']).message).toBe(
      'Argument \'n\' must be a list; got [1, "a"].',
    );
  });
});
