// Text that reaches a person: made safe for a terminal and kept to a readable length. File names, labels and
// server replies are untrusted, so they may hold escape sequences (which a terminal obeys: move the cursor,
// retitle the window, rewrite what was printed) or lists long enough to bury the message.

// C0 controls but tab and line feed, DEL, the C1 controls (U+0080–U+009F; U+009B is a one-character CSI), and
// the invisible bidirectional controls (U+061C, U+200E/F, U+202A–E, U+2066–9), which reorder what a terminal
// shows: a file named "photo\u202Egnp.exe" would print as "photoexe.png" ("Trojan Source", CVE-2021-42574).
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are exactly the characters to escape.
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
// The same, line feed, tab and the Unicode line and paragraph separators included: for one-line text such as
// a file name.
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are exactly the characters to escape.
const CONTROLS_AND_BREAKS = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

/**
 * `text` with every control character a terminal would act on written out as a visible escape (`\x1b`,
 * `\x9b`, `\x07`, …): the C0 controls, DEL and the C1 controls. Escaping ESC (and the single-character CSI
 * U+009B) defuses every escape sequence, since what follows it is then plain printable text. Tab and line feed
 * are kept unless `oneLine` is set; for a name inside a line, set it, so a name cannot start a forged line.
 */
export function terminalSafe(text: string, options: { oneLine?: boolean } = {}): string {
  return String(text).replace(options.oneLine ? CONTROLS_AND_BREAKS : CONTROLS, (c) => {
    const code = c.charCodeAt(0);
    if (code === 0x09) return '\\t';
    if (code === 0x0a) return '\\n';
    if (code === 0x0d) return '\\r';
    if (code > 0xff) return `\\u${code.toString(16).padStart(4, '0')}`;
    return `\\x${code.toString(16).padStart(2, '0')}`;
  });
}

/** Items shown by listSome unless told otherwise. */
export const LIST_SOME_DEFAULT = 10;

/**
 * Up to `max` items joined by `separator`, then how many were left out: "a, b, c … and 99,997 more". All of
 * them when there are at most `max`; `max` below 1 is taken as 1. For lists from files or servers, whose
 * length nobody bounds, in messages.
 */
export function listSome(items: readonly string[], max = LIST_SOME_DEFAULT, separator = ', '): string {
  const shown = Math.max(1, Math.floor(max));
  if (items.length <= shown) return items.join(separator);
  return `${items.slice(0, shown).join(separator)} … and ${formatCount(items.length - shown)} more`;
}

/**
 * `text` cut to at most about `max` characters (never inside a surrogate pair), ending in a note that says it
 * was cut and how long it was; unchanged when it fits.
 */
export function capText(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = Math.max(0, Math.floor(max));
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end--;
  return `${text.slice(0, end)} … (cut: ${formatCount(text.length)} characters in all)`;
}

/** A whole number with thousands separators, the same in every locale: 99,997. */
export function formatCount(n: number): string {
  return Math.trunc(n)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

// DEL, the C1 controls and the bidirectional controls and line separators (above), which JSON.stringify leaves
// raw (it escapes only U+0000–U+001F).
const JSON_RAW_CONTROLS = /[\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

/**
 * JSON text (from JSON.stringify) with those characters written as \u escapes: the same JSON value,
 * and nothing a terminal acts on. Such characters can only stand inside JSON strings, where \uXXXX is valid.
 */
export function terminalSafeJson(json: string): string {
  return json.replace(JSON_RAW_CONTROLS, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
