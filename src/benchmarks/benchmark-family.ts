import type { BenchmarkSpec } from '../config/experiment.js';
import type { Item, ScoreMatrix } from '../items/item.js';

export interface LoadFailure {
  source: { file: string; row: number };
  reason: string;
}

/** One headline number of a benchmark's metric, e.g. What'sUp pair accuracy. */
export interface HeadlineMetric {
  name: string;
  value: number | null;
  correct: number;
  total: number;
}

export interface BenchmarkMetrics {
  /** Which evaluation code the numbers reproduce, e.g. `whatsup_vlms`. */
  convention: string;
  /** The file the metric was ported from. */
  source: string;
  n: number;
  nMissing: number;
  headline: HeadlineMetric[];
  /** Everything else the authors' code reports (per preposition, per category…). */
  details: unknown;
}

/**
 * A benchmark family: reads the authors' files into items and scores them with the authors'
 * metric. Knows nothing about models.
 */
export interface BenchmarkFamily {
  readonly format: BenchmarkSpec['format'];
  load(spec: BenchmarkSpec): Promise<{ items: Item[]; failures: LoadFailure[] }>;
  /** The option an arm picked for an item and whether that is right, by the authors' rule. */
  judge(item: Item, scores: ScoreMatrix): { prediction: number; correct: boolean };
  metrics(items: Item[], scores: Map<string, ScoreMatrix>): BenchmarkMetrics;
}
