import { describe, expect, it } from 'vitest';
import { bootstrapInterval, bootstrapMean, mcnemarExact, percentile } from '../../src/analysis/statistics.js';

describe('exact McNemar test', () => {
  it('matches hand-computed binomial tails', () => {
    // b=0, c=5: 2 · 0.5^5 = 0.0625
    expect(mcnemarExact(0, 5)).toBeCloseTo(0.0625, 12);
    // b=1, c=9: 2 · (1 + 10) / 1024 = 0.021484375
    expect(mcnemarExact(1, 9)).toBeCloseTo(22 / 1024, 12);
    // symmetric in b and c
    expect(mcnemarExact(9, 1)).toBeCloseTo(22 / 1024, 12);
    // b=2, c=3: 2 · (1 + 5 + 10) / 32 = 1 (capped)
    expect(mcnemarExact(2, 3)).toBe(1);
    // b=3, c=12: 2 · (1 + 15 + 105 + 455) / 32768 = 0.03515625
    expect(mcnemarExact(3, 12)).toBeCloseTo(1152 / 32768, 12);
    expect(mcnemarExact(0, 0)).toBe(1);
  });

  it('stays accurate for large counts', () => {
    // b=400, c=600: far in the tail, p < 1e-9 and > 0
    const p = mcnemarExact(400, 600);
    expect(p).toBeGreaterThan(0);
    expect(p).toBeLessThan(1e-9);
  });
});

describe('percentile bootstrap', () => {
  it('interpolates percentiles as numpy does', () => {
    expect(percentile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(percentile([10, 20, 30], 0.025)).toBeCloseTo(10.5, 12);
  });

  it('gives a degenerate interval for constant outcomes and is seeded', () => {
    expect(bootstrapMean([1, 1, 1, 1])).toEqual({ low: 1, high: 1 });
    const a = bootstrapMean([1, 0, 1, 1, 0, 0, 1, 0, 1, 1], { seed: 7 });
    const b = bootstrapMean([1, 0, 1, 1, 0, 0, 1, 0, 1, 1], { seed: 7 });
    expect(a).toEqual(b);
    expect(a!.low).toBeLessThan(0.6);
    expect(a!.high).toBeGreaterThan(0.6);
  });

  it('covers the normal-approximation interval for a large sample', () => {
    // 1000 outcomes, mean 0.7: SE = sqrt(0.21/1000) = 0.01449; 95% ≈ ±0.0284
    const outcomes = Array.from({ length: 1000 }, (_, i) => (i % 10 < 7 ? 1 : 0));
    const ci = bootstrapMean(outcomes, { iterations: 2000, seed: 1 })!;
    expect(ci.low).toBeGreaterThan(0.7 - 0.0284 - 0.006);
    expect(ci.low).toBeLessThan(0.7 - 0.0284 + 0.006);
    expect(ci.high).toBeGreaterThan(0.7 + 0.0284 - 0.006);
    expect(ci.high).toBeLessThan(0.7 + 0.0284 + 0.006);
  });

  it('a two-point hand case: resampling 2 units of values 0 and 1', () => {
    // Means of resamples are 0, 0.5 or 1 with probabilities 1/4, 1/2, 1/4: the 2.5% and 97.5%
    // percentiles of many draws are 0 and 1.
    const ci = bootstrapInterval(2, (idx) => idx.reduce((s, i) => s + i, 0) / 2, { iterations: 4000, seed: 3 });
    expect(ci).toEqual({ low: 0, high: 1 });
  });
});
