/**
 * A measurement's spread over its repeats, beside its best: "best 1.034, median 1.060, worst 1.110
 * over 5 repeats". `lowerIsBetter` (times, ratios of times): best is the least; else the greatest.
 */
export function spreadText(values: number[], digits = 3, lowerIsBetter = true): string {
  if (values.length === 0) return 'no repeats';
  const sorted = [...values].sort((a, b) => (lowerIsBetter ? a - b : b - a));
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  const f = (x: number): string => x.toFixed(digits);
  return `best ${f(sorted[0]!)}, median ${f(median)}, worst ${f(sorted[sorted.length - 1]!)} over ${values.length} repeat${values.length === 1 ? '' : 's'}`;
}
