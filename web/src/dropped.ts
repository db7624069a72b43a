// Files dropped on the page, folders included: a dropped folder arrives as a directory entry, whose files are
// listed here with their paths in it (as the folder picker names them). Only names are listed; nothing is read.
import type { DroppedFile } from './own-model.js';

/** More files than a model folder holds: a folder this large is not one, and is not walked further. */
const MAX_FILES = 2000;
/** Hugging Face folders nest one level (onnx/); a few more allow for a parent folder. */
const MAX_DEPTH = 4;

/** The dropped files, a dropped folder's walked; must be called during the drop event (items expire after). */
export function droppedFiles(data: DataTransfer): Promise<DroppedFile[]> {
  const entries = [...data.items]
    .map((item) => item.webkitGetAsEntry?.())
    .filter((e): e is FileSystemEntry => Boolean(e));
  if (!entries.some((e) => e.isDirectory))
    return Promise.resolve([...data.files].map((file) => ({ file, path: file.name })));
  return (async () => {
    const found: DroppedFile[] = [];
    for (const entry of entries) await walk(entry, 0, found);
    return found;
  })();
}

async function walk(entry: FileSystemEntry, depth: number, found: DroppedFile[]): Promise<void> {
  if (found.length >= MAX_FILES) return;
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) =>
      (entry as FileSystemFileEntry).file(resolve, reject),
    );
    found.push({ file, path: entry.fullPath.replace(/^\//, '') });
    return;
  }
  if (!entry.isDirectory || depth >= MAX_DEPTH) return;
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  // readEntries gives a directory's entries in batches (100 in Chromium) until it gives none.
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) =>
      reader.readEntries(resolve, reject),
    );
    if (batch.length === 0 || found.length >= MAX_FILES) return;
    for (const child of batch) await walk(child, depth + 1, found);
  }
}
