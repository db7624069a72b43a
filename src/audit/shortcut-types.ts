// The shortcut tests' data (audit --shortcuts): what a row holds about its counterfactual variants, what the
// summary holds over them, and the settings the journal records. Plain data, as the rest of types.ts.

/**
 * The variants each image is scored on, after the ImageNet-9 backgrounds challenge (Xiao, Engstrom, Ilyas &
 * Madry, ICLR 2021): the photo as it is; its object on a plain background (their Only-FG); the photo with the
 * object filled in (Only-BG); the object pasted onto the object-less background of a random other image of the
 * audit (Mixed-Rand) and of another image of the same class (Mixed-Same).
 */
export const SHORTCUT_VARIANTS = [
  'original',
  'objectOnly',
  'objectRemoved',
  'swapRandom',
  'swapSame',
] as const;
export type ShortcutVariant = (typeof SHORTCUT_VARIANTS)[number];

/** Each variant in words, as the report and the CSV's header name them. */
export const SHORTCUT_VARIANT_WORDS: Readonly<Record<ShortcutVariant, string>> = {
  original: 'original',
  objectOnly: 'object only',
  objectRemoved: 'object removed',
  swapRandom: 'background of a random image',
  swapSame: 'background of the same class',
};

/** What replaces the background in 'object only': black, the photo blurred, or the audit's mean colour. */
export type BackgroundFill = 'black' | 'blur' | 'mean';
export const BACKGROUND_FILLS: readonly BackgroundFill[] = ['black', 'blur', 'mean'];
/** What fills the object's region in 'object removed' (and the swapped backgrounds): black, or its surroundings blurred in. */
export type ObjectFill = 'blur' | 'black';
export const OBJECT_FILLS: readonly ObjectFill[] = ['blur', 'black'];

/** The settings of a shortcut test, recorded in the audit's config so a resume cannot mix two. */
export interface ShortcutConfig {
  readonly background: BackgroundFill;
  readonly removal: ObjectFill;
  readonly seed: number;
}

/** The model's answer on one variant. */
export interface ShortcutOutcome {
  /** The target's probability (the row's target: its label's class, else the original's top class). */
  readonly probability: number;
  /** The top class on this variant and its probability. */
  readonly top: { readonly index: number; readonly label: string; readonly probability: number };
  /** Whether the top class is the label; absent without a label. */
  readonly correct?: boolean;
}

/** A row's shortcut tests. */
export interface ShortcutRowPart {
  readonly target: { readonly index: number; readonly label: string };
  /** Every variant that could be made: a swap is absent when no image could lend its background. */
  readonly variants: Partial<Record<ShortcutVariant, ShortcutOutcome>>;
  /** The files whose backgrounds the swaps used. */
  readonly partners: { readonly random?: string; readonly same?: string };
  /** The original's top class is the target, and it still is with the object removed. */
  readonly reliesOnContext: boolean;
  /** The top class on a swapped background differs from the original's (the object is the same). */
  readonly fragile: boolean;
  /** The flags in words, as the report and the CSV show them. */
  readonly flags: readonly string[];
  /** Why a swap is missing (a partner that could not be read), when one is. */
  readonly problems?: readonly string[];
}

/** Accuracy on each variant over labelled rows (null where none counts), and the background gap. */
export interface ShortcutGroup {
  /** Rows with shortcut tests in the group. */
  readonly images: number;
  /** Of those, rows with a label (the accuracies' denominator, per variant the rows that have it). */
  readonly labelled: number;
  readonly accuracy: Readonly<Record<ShortcutVariant, number | null>>;
  /**
   * Accuracy on the same-class swap minus accuracy on the random swap, over the labelled rows that have both
   * (Xiao et al.'s BG-Gap); null where none has both.
   */
  readonly backgroundGap: number | null;
  /** Rows flagged as relying on context, and as fragile. */
  readonly reliesOnContext: number;
  readonly fragile: number;
}

export interface ShortcutSummary extends ShortcutGroup {
  /** Per label text, in code-unit order. */
  readonly byClass: readonly (ShortcutGroup & { readonly label: string })[];
  /** Per cluster of maps, in the summary's cluster order (cluster 1 first); members without tests are left out. */
  readonly byCluster: readonly (ShortcutGroup & { readonly cluster: number })[];
}
