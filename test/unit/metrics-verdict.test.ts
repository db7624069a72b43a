import { describe, expect, it } from 'vitest';
import type { AttributionMap } from '../../src/core/attribution.js';
import { compareMaps, type MapPair } from '../../src/metrics/agreement.js';
import { regionAttention } from '../../src/metrics/region.js';
import {
  AGREEMENT_OVERLAP,
  agreementVerdict,
  INSIDE_SHARE,
  LARGE_AREA_SHARE,
  PARTLY_CONCENTRATION,
  regionVerdict,
} from '../../src/metrics/verdict.js';
import { expectInvalid } from '../helpers/errors.js';

const PEAK_IN = 'Its strongest point is inside the area.';
const PEAK_OUT = 'Its strongest point is outside the area.';

/** A result for an area of 20% of the photo (concentration = share / 0.2) unless given otherwise. */
function result(share: number, peakInside = true, areaShare = 0.2, concentration = share / areaShare) {
  return { share, areaShare, concentration, peakInside };
}

describe('regionVerdict sentences', () => {
  it('the thresholds are the documented ones', () => {
    expect([INSIDE_SHARE, PARTLY_CONCENTRATION, LARGE_AREA_SHARE, AGREEMENT_OVERLAP]).toEqual([
      0.5, 2, 0.5, 0.5,
    ]);
  });

  it('inside', () => {
    expect(regionVerdict(result(0.71))).toEqual({
      level: 'inside',
      sentence: `The model looked mostly at the area you marked: 71% of its attention is inside it. ${PEAK_IN}`,
    });
  });

  it('partly', () => {
    expect(regionVerdict(result(0.34, false, 0.113))).toEqual({
      level: 'partly',
      sentence:
        'The model looked partly at the area you marked: 34% of its attention is inside it, about 3× what an ' +
        `area that size would get by chance, but most is elsewhere. ${PEAK_OUT}`,
    });
  });

  it('outside', () => {
    expect(regionVerdict(result(0.36, false))).toEqual({
      level: 'outside',
      sentence:
        "Most of the model's attention, 64%, is outside the area you marked — it may be relying on the " +
        `background. ${PEAK_OUT}`,
    });
    expect(regionVerdict(result(0.36, true)).sentence).toMatch(/ Its strongest point is inside the area\.$/);
  });

  it('share exactly 0.5 is inside', () => {
    expect(regionVerdict(result(0.5)).sentence).toBe(
      `The model looked mostly at the area you marked: 50% of its attention is inside it. ${PEAK_IN}`,
    );
  });

  it('concentration exactly 2 is partly; just under is outside', () => {
    expect(regionVerdict(result(0.3, true, 0.15, 2))).toMatchObject({ level: 'partly' });
    expect(regionVerdict(result(0.3, true, 0.15, 2)).sentence).toContain(
      '30% of its attention is inside it, about 2×',
    );
    expect(regionVerdict(result(0.3, true, 0.15, 1.999))).toMatchObject({ level: 'outside' });
  });

  it('the level follows the share as printed, so wording and number never contradict', () => {
    // 0.499 prints as 50% inside and 50% outside: it reads "mostly … 50%", never "most … 50% is outside".
    expect(regionVerdict(result(0.499, true, 0.5))).toMatchObject({ level: 'inside' });
    expect(regionVerdict(result(0.499, true, 0.5)).sentence).toContain(
      'mostly at the area you marked: 50% of',
    );
    expect(regionVerdict(result(0.495))).toMatchObject({ level: 'inside' });
    // 0.4949 prints as 49% inside, so outside, with 100 − 49 = 51% outside.
    expect(regionVerdict(result(0.4949, true, 0.5))).toMatchObject({ level: 'outside' });
    expect(regionVerdict(result(0.4949, true, 0.5)).sentence).toContain('attention, 51%, is outside');
    // A partly verdict prints at most 49%, beside "most is elsewhere".
    expect(regionVerdict(result(0.4949, true, 0.2)).sentence).toContain(
      ': 49% of its attention is inside it',
    );
  });

  it('rounds to whole percent at the ends, and never prints 0% for some attention', () => {
    expect(regionVerdict(result(0.996, true, 0.6)).sentence).toContain(
      ': 100% of its attention is inside it.',
    );
    expect(regionVerdict(result(0.994, true, 0.6)).sentence).toContain(
      ': 99% of its attention is inside it.',
    );
    // A tiny box with a small share far above chance: partly, "less than 1%".
    expect(regionVerdict(result(0.004, false, 0.0001, 40))).toEqual({
      level: 'partly',
      sentence:
        'The model looked partly at the area you marked: less than 1% of its attention is inside it, about 40× ' +
        `what an area that size would get by chance, but most is elsewhere. ${PEAK_OUT}`,
    });
    expect(regionVerdict(result(0, false)).sentence).toContain('attention, 100%, is outside');
  });

  it('an inside verdict on a large area says how much of the photo it covers', () => {
    expect(regionVerdict(result(0.8, true, 0.9)).sentence).toBe(
      `The model looked mostly at the area you marked: 80% of its attention is inside it. ${PEAK_IN} ` +
        'The area you marked covers 90% of the photo, so attention spread evenly would already put 90% inside it.',
    );
    expect(regionVerdict(result(0.8, true, 0.5)).sentence).toContain('covers 50% of the photo');
    expect(regionVerdict(result(0.8, true, 0.49)).sentence).not.toContain('covers');
  });

  it('reads a regionAttention result directly', () => {
    // biome-ignore format: the map reads as its grid
    const data = Float32Array.from([
      0, 1, 0, 0,
      1, 8, 4, 0,
      0, 4, 2, 0,
      0, 0, 0, 0,
    ]);
    const map: AttributionMap = { width: 4, height: 4, signed: false, data };
    expect(regionVerdict(regionAttention(map, [{ x: 1, y: 1, width: 2, height: 2 }])).sentence).toBe(
      `The model looked mostly at the area you marked: 90% of its attention is inside it. ${PEAK_IN}`,
    );
    // The top-right 2×2 holds 4 of 20 on a quarter of the area: concentration 0.8.
    expect(regionVerdict(regionAttention(map, [{ x: 2, y: 0, width: 2, height: 2 }])).sentence).toBe(
      "Most of the model's attention, 80%, is outside the area you marked — it may be relying on the " +
        `background. ${PEAK_OUT}`,
    );
  });

  it('rejects a malformed result', () => {
    expectInvalid(
      () => regionVerdict(result(Number.NaN)),
      "Argument 'result.share' must be a number in [0, 1]; got NaN.",
    );
    expectInvalid(
      () => regionVerdict(result(0.5, true, 0)),
      /'result.areaShare' must be a number in \(0, 1\]/,
    );
    expectInvalid(
      () => regionVerdict({ ...result(0.5), concentration: Infinity }),
      /'result.concentration' must be a finite number ≥ 0; got Infinity/,
    );
  });
});

function pair(a: string, b: string, topOverlap: number, topFraction = 0.2): MapPair {
  return { a, b, topOverlap, rankCorrelation: 0.5, topFraction };
}

describe('agreementVerdict', () => {
  it('two methods that agree: the least overlap', () => {
    expect(agreementVerdict(['Grad-CAM', 'RISE'], [pair('Grad-CAM', 'RISE', 0.62)])).toEqual({
      level: 'agree',
      sentence: 'These methods agree: their strongest 20% regions overlap by 62% or more.',
    });
    const three = [pair('A', 'B', 0.9), pair('A', 'C', 0.7), pair('B', 'C', 0.65)];
    expect(agreementVerdict(['A', 'B', 'C'], three).sentence).toBe(
      'These methods agree: their strongest 20% regions overlap by 65% or more.',
    );
  });

  it('names the pair that overlaps least, in the order of names', () => {
    const pairs = [
      pair('Grad-CAM', 'Occlusion', 0.7),
      pair('RISE', 'Grad-CAM', 0.18),
      pair('RISE', 'Occlusion', 0.4),
    ];
    expect(agreementVerdict(['Grad-CAM', 'RISE', 'Occlusion'], pairs)).toEqual({
      level: 'disagree',
      sentence:
        'Grad-CAM and RISE disagree: their strongest 20% regions overlap by only 18%, so treat either map with care.',
    });
  });

  it('on ties names the first pair', () => {
    const pairs = [pair('A', 'B', 0.7), pair('A', 'C', 0.3), pair('B', 'C', 0.3)];
    expect(agreementVerdict(['A', 'B', 'C'], pairs).sentence).toMatch(/^A and C disagree/);
  });

  it('words the top fraction from the pairs', () => {
    expect(agreementVerdict(['A', 'B'], [pair('A', 'B', 0.8, 0.1)]).sentence).toBe(
      'These methods agree: their strongest 10% regions overlap by 80% or more.',
    );
    expect(agreementVerdict(['A', 'B'], [pair('A', 'B', 0.1, 0.125)]).sentence).toContain(
      'strongest 12.5% regions',
    );
  });

  it('0.5 exactly agrees; the level follows the printed percent', () => {
    expect(agreementVerdict(['A', 'B'], [pair('A', 'B', 0.5)]).sentence).toBe(
      'These methods agree: their strongest 20% regions overlap by 50% or more.',
    );
    expect(agreementVerdict(['A', 'B'], [pair('A', 'B', 0.4951)]).level).toBe('agree');
    expect(agreementVerdict(['A', 'B'], [pair('A', 'B', 0.4949)]).sentence).toBe(
      'A and B disagree: their strongest 20% regions overlap by only 49%, so treat either map with care.',
    );
  });

  it('reads compareMaps directly and ignores pairs of other methods', () => {
    const row = (values: number[]): AttributionMap => ({
      width: 10,
      height: 1,
      signed: false,
      data: Float32Array.from(values),
    });
    const pairs = compareMaps({
      'Grad-CAM': row([9, 8, 0, 0, 0, 0, 0, 0, 0, 0]),
      RISE: row([9, 0, 8, 0, 0, 0, 0, 0, 0, 0]),
      Occlusion: row([9, 8, 1, 0, 0, 0, 0, 0, 0, 0]),
    });
    expect(agreementVerdict(['Grad-CAM', 'Occlusion'], pairs).sentence).toBe(
      'These methods agree: their strongest 20% regions overlap by 100% or more.',
    );
    expect(agreementVerdict(['Grad-CAM', 'RISE', 'Occlusion'], pairs).sentence).toBe(
      'Grad-CAM and RISE disagree: their strongest 20% regions overlap by only 33%, so treat either map with care.',
    );
  });

  it('rejects too few names, a missing pair, and mixed fractions', () => {
    expectInvalid(
      () => agreementVerdict(['A'], []),
      'Argument \'names\' must be a list of at least two method names; got ["A"].',
    );
    expectInvalid(() => agreementVerdict(['A', 'A'], [pair('A', 'A', 1)]), /distinct method names/);
    expectInvalid(
      () => agreementVerdict(['A', 'B', 'C'], [pair('A', 'B', 0.9), pair('A', 'C', 0.9)]),
      'Argument \'pairs\' must hold every pair of the names; got no pair for "B" and "C".',
    );
    expectInvalid(
      () =>
        agreementVerdict(
          ['A', 'B', 'C'],
          [pair('A', 'B', 0.9), pair('A', 'C', 0.9), pair('B', 'C', 0.9, 0.1)],
        ),
      "Argument 'pairs[].topFraction' must be one fraction in (0, 1] shared by every pair; got [0.2, 0.2, 0.1].",
    );
  });
});
