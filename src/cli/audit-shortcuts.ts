// audit --shortcuts on the command line: its flags, what it refuses up front, and its line in the summary.
import { type Command, InvalidArgumentError, Option } from 'commander';
import type { AuditItem } from '../audit/audit.js';
import { shortcutSummaryWords } from '../audit/shortcut-summary.js';
import {
  BACKGROUND_FILLS,
  type BackgroundFill,
  OBJECT_FILLS,
  type ObjectFill,
  type ShortcutConfig,
} from '../audit/shortcut-types.js';
import { ShortcutTester } from '../audit/shortcuts.js';
import type { AuditRow, AuditSummary } from '../audit/types.js';
import { SightlineError } from '../core/errors.js';
import type { Model } from '../core/model.js';
import { safeName } from './print.js';

export interface ShortcutFlags {
  shortcuts?: boolean;
  shortcutBackground: BackgroundFill;
  shortcutRemoval: ObjectFill;
  shortcutSeed: number;
  regions?: string;
}

export function addShortcutOptions(cmd: Command): void {
  cmd
    .option(
      '--shortcuts',
      "shortcut tests (needs --regions): score each image with its object alone, with the object removed, and on another image's background (a random one and one of the same class), and flag answers that follow the context",
    )
    .addOption(
      new Option('--shortcut-background <fill>', "--shortcuts: what replaces the background in 'object only'")
        .choices(BACKGROUND_FILLS)
        .default('black'),
    )
    .addOption(
      new Option(
        '--shortcut-removal <fill>',
        "--shortcuts: what fills the object's region in 'object removed' and the swapped backgrounds (blur: its surroundings blurred in)",
      )
        .choices(OBJECT_FILLS)
        .default('blur'),
    )
    .addOption(
      new Option('--shortcut-seed <n>', '--shortcuts: seed of the choice of swapped backgrounds')
        .argParser(parseSeed)
        .default(0),
    );
}

/** The settings to record, or undefined without --shortcuts; refuses what cannot run before any work. */
export function shortcutConfig(flags: ShortcutFlags): ShortcutConfig | undefined {
  if (!flags.shortcuts) return undefined;
  if (flags.regions === undefined)
    throw new SightlineError(
      'INVALID_ARGUMENT',
      "--shortcuts needs --regions: the tests remove each image's object, show it alone and paste it onto other backgrounds, so they must know where the object is. Pass --regions with a COCO, VOC or CSV file, or a folder of mask PNGs.",
    );
  return { background: flags.shortcutBackground, removal: flags.shortcutRemoval, seed: flags.shortcutSeed };
}

/**
 * The settings and the tester for --shortcuts (undefined without it). Every image with regions can lend its
 * background to another's swap, done earlier or not; a model that is not a classifier is refused here, before
 * the journal opens.
 */
export function shortcutTester(
  flags: ShortcutFlags,
  model: Model,
  items: readonly AuditItem[],
): { config: ShortcutConfig; tester: ShortcutTester } | undefined {
  const config = shortcutConfig(flags);
  if (!config) return undefined;
  const sources = items.flatMap((item) =>
    item.regionMask ? [{ ...item, regionMask: item.regionMask }] : [],
  );
  return { config, tester: new ShortcutTester(model, sources, config) };
}

/** The summary's shortcut line for the terminal ('' without shortcut tests). */
export function shortcutLine(summary: AuditSummary): string {
  return summary.shortcuts ? `\nShortcut tests: ${shortcutSummaryWords(summary.shortcuts)}` : '';
}

/** A row's shortcut flags for its progress line ('' when it has none); label texts made safe for a terminal. */
export function shortcutRowWords(row: AuditRow): string {
  const flags = row.shortcuts?.flags ?? [];
  return flags.length > 0 ? `; shortcut: ${safeName(flags.join('; '))}` : '';
}

function parseSeed(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff)
    throw new InvalidArgumentError(`expected a whole number from 0 to 4294967295, got '${value}'`);
  return n;
}
