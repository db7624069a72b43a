// The CLI's one way to print: text from files, models and servers passes through terminalSafe, so a file
// named with escape sequences prints as visible text instead of driving the terminal.
import { terminalSafe, terminalSafeJson } from '../core/text.js';

/** Writes `text` to `stream` with control characters escaped (tab and line feed kept). */
export function print(text: string, stream: NodeJS.WritableStream = process.stdout): void {
  stream.write(terminalSafe(text));
}

/** Writes `text` to stderr as print does. */
export function printError(text: string): void {
  print(text, process.stderr);
}

/** Writes a value as indented JSON and a line feed: valid JSON, with DEL and C1 controls as \u escapes. */
export function printJson(value: unknown, stream: NodeJS.WritableStream = process.stdout): void {
  stream.write(`${terminalSafeJson(JSON.stringify(value, null, 2))}\n`);
}

/** A name (a file, a label) to put inside a line: every control character escaped, line breaks included. */
export function safeName(name: string): string {
  return terminalSafe(name, { oneLine: true });
}
