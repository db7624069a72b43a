// The one rule for every path a queue job names (the image, its mask, a shortcut partner, the model, the
// reference): a worker reads only inside its --root folders, links followed first.
import { realpath } from 'node:fs/promises';
import { isAbsolute, relative, sep } from 'node:path';
import { fileErrorReason, SightlineError } from '../core/errors.js';
import { capText } from '../core/text.js';

/**
 * The real path of `path` when it lies inside one of `roots` (each a real path), as a local audit reads only
 * what is inside its folder; otherwise an IO error naming the path and the roots. Links are followed first,
 * so a link inside a root that points outside is refused too.
 */
export async function confine(path: string, roots: readonly string[], what: string): Promise<string> {
  let real: string;
  try {
    real = await realpath(path);
  } catch (cause) {
    throw new SightlineError(
      'IO',
      `Cannot read the ${what} '${capText(path, 300)}': ${fileErrorReason(cause)}.`,
      {
        path,
      },
    );
  }
  const inside = roots.some((root) => {
    const r = relative(root, real);
    return r === '' || (!r.startsWith(`..${sep}`) && r !== '..' && !isAbsolute(r));
  });
  if (!inside)
    throw new SightlineError(
      'IO',
      `The ${what} '${capText(path, 300)}' is outside the folders this worker may read (${capText(roots.join(', '), 300)}); expected a path under one of them (sightline worker --root).`,
      { path },
    );
  return real;
}
