import { invalidArgument, SightlineError } from '../core/errors.js';
import type { MapPair } from './agreement.js';
import type { RegionAttention } from './region.js';

/**
 * The least share of attention inside the marked area for "the model looked mostly at it": half, the point
 * where more of the attention is inside than outside. Compared with the share as printed (rounded to a whole
 * percent), so the sentence never says "mostly" beside 49% nor "most is elsewhere" beside 50%.
 */
export const INSIDE_SHARE = 0.5;

/**
 * Below INSIDE_SHARE, the least concentration (share ÷ area share) for "the model looked partly at it": twice
 * what an area that size gets by chance, i.e. if attention were spread evenly over the photo.
 */
export const PARTLY_CONCENTRATION = 2;

/**
 * From this area share up, an "inside" verdict says how much of the photo the marked area covers: attention
 * spread evenly would already put half of itself or more inside such an area, so "mostly inside" is weak
 * evidence there.
 */
export const LARGE_AREA_SHARE = 0.5;

/** The least overlap of every pair's strongest regions (as printed, whole percent) for "these methods agree". */
export const AGREEMENT_OVERLAP = 0.5;

export type RegionLevel = 'inside' | 'partly' | 'outside';

export interface RegionVerdict {
  readonly level: RegionLevel;
  /** Plain words for a person who writes no code (see docs/verdicts.md). */
  readonly sentence: string;
}

export type AgreementLevel = 'agree' | 'disagree';

export interface AgreementVerdict {
  readonly level: AgreementLevel;
  readonly sentence: string;
}

/**
 * Says in plain words whether the model looked at the marked area, from regionAttention's result:
 * - share ≥ INSIDE_SHARE: `inside`, "The model looked mostly at the area you marked: 71% of its attention is
 *   inside it.";
 * - else concentration ≥ PARTLY_CONCENTRATION: `partly`, "The model looked partly at the area you marked: 34%
 *   of its attention is inside it, about 3× what an area that size would get by chance, but most is
 *   elsewhere.";
 * - else `outside`, "Most of the model's attention, 64%, is outside the area you marked — it may be relying on
 *   the background."
 *
 * Then "Its strongest point is inside the area." or "… outside the area.". An `inside` verdict on an area of
 * LARGE_AREA_SHARE of the photo or more ends with how much of the photo it covers. Percentages are whole
 * numbers; a share above 0 that would round to 0% reads "less than 1%".
 */
export function regionVerdict(
  result: Pick<RegionAttention, 'share' | 'areaShare' | 'concentration' | 'peakInside'>,
): RegionVerdict {
  if (typeof result !== 'object' || result === null) {
    throw invalidArgument('result', "regionAttention's result", result);
  }
  const { share, areaShare, concentration, peakInside } = result;
  if (!(share >= 0 && share <= 1)) throw invalidArgument('result.share', 'a number in [0, 1]', share);
  if (!(areaShare > 0 && areaShare <= 1)) {
    throw invalidArgument('result.areaShare', 'a number in (0, 1]', areaShare);
  }
  if (!(concentration >= 0 && Number.isFinite(concentration))) {
    throw invalidArgument('result.concentration', 'a finite number ≥ 0', concentration);
  }
  if (typeof peakInside !== 'boolean') throw invalidArgument('result.peakInside', 'a boolean', peakInside);

  const insidePercent = Math.round(share * 100);
  const peak = `Its strongest point is ${peakInside ? 'inside' : 'outside'} the area.`;
  if (insidePercent / 100 >= INSIDE_SHARE) {
    const areaPercent = Math.round(areaShare * 100);
    const large =
      areaShare >= LARGE_AREA_SHARE
        ? ` The area you marked covers ${areaPercent}% of the photo, so attention spread evenly would already ` +
          `put ${areaPercent}% inside it.`
        : '';
    return {
      level: 'inside',
      sentence: `The model looked mostly at the area you marked: ${insidePercent}% of its attention is inside it. ${peak}${large}`,
    };
  }
  if (concentration >= PARTLY_CONCENTRATION) {
    const printed = insidePercent === 0 && share > 0 ? 'less than 1%' : `${insidePercent}%`;
    return {
      level: 'partly',
      sentence:
        `The model looked partly at the area you marked: ${printed} of its attention is inside it, about ` +
        `${Math.round(concentration)}× what an area that size would get by chance, but most is elsewhere. ${peak}`,
    };
  }
  return {
    level: 'outside',
    sentence:
      `Most of the model's attention, ${100 - insidePercent}%, is outside the area you marked — it may be ` +
      `relying on the background. ${peak}`,
  };
}

/**
 * One sentence on whether the compared methods agree, for the compare view (meant for 2–3 methods). `names`
 * are the methods in display order; `pairs` (from compareMaps) must hold every pair of them, and may hold
 * others, which are ignored. When every pair's topOverlap, as a whole percent, is at least AGREEMENT_OVERLAP:
 * "These methods agree: their strongest 20% regions overlap by 62% or more." (the least overlap). Otherwise it
 * names the pair that overlaps least (the first in `names` order on ties): "Grad-CAM and RISE disagree: their
 * strongest 20% regions overlap by only 18%, so treat either map with care." The 20% is the pairs' topFraction.
 */
export function agreementVerdict(names: readonly string[], pairs: readonly MapPair[]): AgreementVerdict {
  if (!Array.isArray(names) || names.length < 2) {
    throw invalidArgument('names', 'a list of at least two method names', names);
  }
  if (new Set(names).size !== names.length) {
    throw invalidArgument('names', 'a list of distinct method names', names);
  }
  if (!Array.isArray(pairs)) throw invalidArgument('pairs', "compareMaps' list of pairs", pairs);

  const chosen: MapPair[] = [];
  for (let i = 0; i < names.length; i++) {
    for (let j = i + 1; j < names.length; j++) {
      const pair = pairs.find(
        (p) => (p.a === names[i] && p.b === names[j]) || (p.a === names[j] && p.b === names[i]),
      );
      if (pair === undefined) {
        throw new SightlineError(
          'INVALID_ARGUMENT',
          `Argument 'pairs' must hold every pair of the names; got no pair for ${JSON.stringify(names[i])} ` +
            `and ${JSON.stringify(names[j])}.`,
          { argument: 'pairs', missing: [names[i], names[j]] },
        );
      }
      if (!(pair.topOverlap >= 0 && pair.topOverlap <= 1)) {
        throw invalidArgument('pairs[].topOverlap', 'a number in [0, 1]', pair.topOverlap);
      }
      chosen.push({ ...pair, a: names[i], b: names[j] });
    }
  }
  const fraction = chosen[0].topFraction;
  if (!(fraction > 0 && fraction <= 1) || chosen.some((p) => p.topFraction !== fraction)) {
    throw invalidArgument(
      'pairs[].topFraction',
      'one fraction in (0, 1] shared by every pair',
      chosen.map((p) => p.topFraction),
    );
  }

  const region = `strongest ${Number((fraction * 100).toFixed(1))}% regions`;
  let worst = chosen[0];
  for (const pair of chosen) if (pair.topOverlap < worst.topOverlap) worst = pair;
  const worstPercent = Math.round(worst.topOverlap * 100);
  if (worstPercent / 100 >= AGREEMENT_OVERLAP) {
    return {
      level: 'agree',
      sentence: `These methods agree: their ${region} overlap by ${worstPercent}% or more.`,
    };
  }
  return {
    level: 'disagree',
    sentence:
      `${worst.a} and ${worst.b} disagree: their ${region} overlap by only ${worstPercent}%, so treat ` +
      'either map with care.',
  };
}
