import { SightlineError } from '../core/errors.js';

/**
 * Labels from the text of a labels file: one per line (index = line number) or JSON (an array, or an object
 * mapping indices to names, as Keras' imagenet_class_index.json and Teachable Machine's metadata do).
 */
export function parseLabels(text: string, source = 'labels'): string[] {
  const trimmed = text.trim();
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) {
    let json: unknown;
    try {
      json = JSON.parse(trimmed);
    } catch (cause) {
      throw new SightlineError(
        'IO',
        `The labels file '${source}' looks like JSON but does not parse: ${(cause as Error).message}`,
        {},
        { cause },
      );
    }
    if (Array.isArray(json)) return json.map((v) => labelText(v));
    if (json && typeof json === 'object') {
      const obj = (json as { labels?: unknown }).labels ?? json;
      if (Array.isArray(obj)) return obj.map((v) => labelText(v));
      const entries = Object.entries(obj as Record<string, unknown>);
      const out: string[] = [];
      for (const [key, value] of entries) {
        const index = Number(key);
        if (!Number.isInteger(index) || index < 0) {
          throw new SightlineError(
            'IO',
            `The labels file '${source}' maps '${key}', which is not a class index; expected keys 0, 1, 2, …`,
          );
        }
        out[index] = labelText(value);
      }
      return Array.from(out, (l, i) => l ?? `class ${i}`);
    }
    throw new SightlineError(
      'IO',
      `The labels file '${source}' holds JSON that is neither a list nor an index → label map.`,
    );
  }
  const lines = text.split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1].trim() === '') lines.pop();
  return lines.map((l) => l.trim());
}

/** Keras' index file stores [wordnet id, name]; keep the readable name. */
function labelText(value: unknown): string {
  if (Array.isArray(value)) return String(value[value.length - 1]);
  return String(value);
}
