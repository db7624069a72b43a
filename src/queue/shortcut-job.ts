// audit --shortcuts on a worker: the job's image goes through the local audit's own ShortcutTester, given the
// partners and mean colour the coordinator chose over the whole audit (a worker sees one image of it). Each
// partner is read as the image itself is (inputs.ts), its paths confined to the worker's --root folders.
import { realpath } from 'node:fs/promises';
import type { ShortcutRowPart } from '../audit/shortcut-types.js';
import { type ShortcutInput, ShortcutTester } from '../audit/shortcuts.js';
import type { Model } from '../core/model.js';
import { isHttpUrl } from '../core/url.js';
import { passedOverError } from '../io/list-images.js';
import { confine } from './confine.js';
import { jobRegionMask, loadJobImage } from './inputs.js';
import type { AuditJob, JobPartner } from './job.js';

/** The job's shortcut tests for auditImages, or undefined for a job without them. */
export function jobShortcuts(
  model: Model,
  job: AuditJob,
  roots: readonly string[],
): ((input: ShortcutInput) => Promise<ShortcutRowPart>) | undefined {
  const settings = job.settings.shortcuts;
  if (!settings) return undefined;
  const { random, same } = job.partners ?? {};
  const given = [random, same].filter((p): p is JobPartner => p !== undefined);
  const tester = new ShortcutTester(
    model,
    given.map((partner) => ({
      file: partner.file,
      load: () =>
        partner.unreadable === undefined
          ? loadJobImage(partner, roots)
          : Promise.reject(passedOverError(partner.file, partner.unreadable)),
      regionMask: (width, height) => jobRegionMask(partner, roots, width, height),
    })),
    { background: settings.background, removal: settings.removal, seed: settings.seed },
    {
      partners: new Map([[job.image.file, { random: random?.file, same: same?.file }]]),
      ...(settings.meanColour ? { meanColour: settings.meanColour } : {}),
    },
  );
  return async (input) => {
    for (const partner of given) if (partner.unreadable === undefined) await refuseOutside(partner, roots);
    return tester.test(input);
  };
}

/**
 * A partner outside the roots makes the job's row an error, as the image outside them would: such a job was
 * written by someone else, or the workers' roots miss part of the audit. A partner that cannot be read at all
 * (gone since the audit began) is left to the tester, which says so in the row, as a local audit does.
 */
async function refuseOutside(partner: JobPartner, roots: readonly string[]): Promise<void> {
  const paths: [string | undefined, string][] = [
    [isHttpUrl(partner.source) ? undefined : partner.source, 'shortcut partner image'],
    [partner.regions.maskPath, 'shortcut partner region mask'],
  ];
  for (const [path, what] of paths) {
    if (path === undefined) continue;
    const exists = await realpath(path).then(
      () => true,
      () => false,
    );
    if (exists) await confine(path, roots, what);
  }
}
