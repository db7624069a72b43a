/**
 * What an Ultralytics ONNX export says about itself in its metadata (metadata_props, written by
 * ultralytics/engine/exporter.py): 'task' ('detect', 'segment', …), 'names' (a Python dict literal,
 * "{0: 'person', 1: 'bicycle'}"), 'imgsz' ("[640, 640]", height first). They fill the hints a user did not
 * give, so a YOLO file explains with its own labels and size. Untrusted text: bounded, parsed by pattern,
 * never evaluated; anything unreadable is ignored (the file still opens as its shapes say).
 */
import type { ModelProto } from '../engines/onnx/proto.js';
import type { ModelHints } from './spec.js';

/** Longer metadata values are ignored: 80 COCO names take about 1 KB. */
const MAX_VALUE = 1 << 20;
const MAX_CLASSES = 100_000;

function metadata(proto: ModelProto): Map<string, string> {
  const out = new Map<string, string>();
  for (const p of proto.metadataProps ?? [])
    if (p.key && typeof p.value === 'string' && p.value.length <= MAX_VALUE) out.set(p.key, p.value);
  return out;
}

/** Class names from a dict literal {0: 'a', 1: "b"}, index-aligned; undefined unless they are 0..K−1. */
export function parseNames(text: string): string[] | undefined {
  const names: string[] = [];
  const pattern = /(\d+)\s*:\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")/g;
  for (const m of text.matchAll(pattern)) {
    const i = Number(m[1]);
    if (i !== names.length || i >= MAX_CLASSES) return undefined;
    names.push((m[2] ?? m[3]).replace(/\\(.)/g, '$1'));
  }
  return names.length > 0 ? names : undefined;
}

/** The hints an Ultralytics export's metadata gives; empty for any other file. */
export function ultralyticsHints(proto: ModelProto): ModelHints {
  const meta = metadata(proto);
  const task = meta.get('task');
  if (!task || !/ultralytics/i.test(`${meta.get('author') ?? ''} ${meta.get('description') ?? ''}`))
    return {};
  const hints: { -readonly [K in keyof ModelHints]: ModelHints[K] } = {};
  if (task === 'detect' || task === 'segment') hints.task = 'detect';
  const names = parseNames(meta.get('names') ?? '');
  if (names) hints.labels = names;
  const size = /^\s*\[\s*(\d{1,4})\s*,\s*(\d{1,4})\s*\]\s*$/.exec(meta.get('imgsz') ?? '');
  if (size) {
    hints.height = Number(size[1]);
    hints.width = Number(size[2]);
  }
  return hints;
}
