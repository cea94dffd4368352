import type { BenchmarkSpec } from './benchmark-spec.js';
import type { Item, ScoreMatrix } from '../core/item.js';
import type { DataQuirk } from './shared/data-quirk.js';
import type { OptionOrder } from '../core/option-order.js';

/** A family's config `format` (the registry lists them). */
export type BenchmarkFormat = string;

/** A row of an annotation file that could not become an item. */
export interface LoadFailure {
  source: { file: string; row: number };
  /** Names the file, the row and the field: `<file> row <i>: field <name>: …`. */
  reason: string;
}

/** One headline number of a benchmark's metric, e.g. What'sUp pair accuracy. */
export interface HeadlineMetric {
  /** `individual`, `pair`, `set` where the family has them (the report's table reads these names). */
  name: string;
  /** The evaluation code this number reproduces (same as `BenchmarkMetrics.convention`). */
  convention: string;
  value: number | null;
  correct: number;
  /** The authors' denominator (may be fractional, e.g. What'sUp N/2). */
  total: number;
}

export interface BenchmarkMetrics {
  /** Which evaluation code the numbers reproduce, e.g. `whatsup_vlms`, `clip_embeds_2way`. */
  convention: string;
  /** The repo@commit:path and function the metric was ported from. */
  source: string;
  n: number;
  nMissing: number;
  headline: HeadlineMetric[];
  /** Everything else the authors' code reports (per preposition, per category…). */
  details: unknown;
}

/**
 * One way of scoring a family, named after the evaluation code it reproduces. A convention may
 * shape the items themselves (What'sUp `clip_embeds_2way` keeps 2 of the 4 captions), so it is
 * chosen when the items are loaded (`BenchmarkSpec.convention`) and stamped on every item as
 * `item.groups.convention`; `judge` and `metrics` read it from there (it survives samples.jsonl).
 */
export interface Convention {
  /** e.g. `whatsup_vlms`, `clip_embeds_2way`, `clip_embeds_4way`, `clip_embeds`, `hard_positives`. */
  name: string;
  /** repo@commit:path function. */
  source: string;
  /** One line for `--help`, the README and the report. */
  description: string;
}

/**
 * A subset a user names with `perceive metrics --benchmark NAME`, and where `perceive data check DIR`
 * expects its files (paths relative to DIR, laid out as the README's "Data layout" says).
 */
export interface BenchmarkSubset {
  /** e.g. `whatsup.controlled_a`, `whatsup.coco_qa_one`, `hard_positives.replace_rel`. */
  name: string;
  /** `BenchmarkSpec.subset` for this subset. */
  subset: string;
  /** The authors' annotation file, relative to the data root. */
  annotations: string;
  /** `BenchmarkSpec.data_dir`, relative to the data root. */
  dataDir: string;
  /** `BenchmarkSpec.extra_files` (e.g. the hard-positive file), relative to the data root. */
  extraFiles?: Record<string, string>;
  /** Files by role the subset is scored without, and what each adds (data check reports them). */
  optionalFiles?: Record<string, { path: string; adds: string }>;
  /**
   * Other published names of these files (path → path, relative to the data root), e.g. SugarCrepe's
   * earlier `add_ent.json` for `add_obj.json`: `perceive data check` reads the other name when the
   * first is absent, and says which it read.
   */
  alternativeFiles?: Record<string, string>;
  description: string;
}

/** A file as its authors published it, with its sha256 when the project could establish it. */
export interface PublishedFile {
  /** Relative to the data root (same layout as `BenchmarkSubset`). */
  path: string;
  /** Lower-case hex, or null when unknown (e.g. published only on Google Drive). */
  sha256: string | null;
  /** Where it is published (repo@commit:path or URL), and how the checksum was established. */
  origin: string;
}

/**
 * A file beside the annotations that only some figures need (e.g. MMVP-VLM's `Questions-llava.csv`):
 * reading it never stops the items; what it would add is said in `neededBy`.
 */
export interface CompanionFile {
  role: string;
  file: string;
  status: 'read' | 'absent' | 'unreadable';
  /** Why it is not read (null when read). */
  reason: string | null;
  /** What needs it: the arms / conventions whose figures it feeds. */
  neededBy: string;
}

/**
 * How the bootstrap resamples a family's metric (src/analysis/metric-bootstrap.ts). The resampling
 * unit is a cluster of items sharing `groups[clusterKey]` (absent: each item alone); `relabelKeys`
 * are further `groups` keys naming groups inside a cluster (each resampled copy is a group of its own).
 * A resample's headline values follow from the sum, over its clusters, of each cluster's sufficient
 * statistics, read from the family's own metric run on that cluster alone.
 */
export interface BootstrapDeclaration {
  clusterKey?: string;
  relabelKeys?: readonly string[];
  /** Absent: `RATIO_OF_SUMS`, every headline value is Σ correct / Σ total over the clusters. */
  statistics?: BootstrapStatistics;
}

export interface BootstrapStatistics {
  /** The sufficient statistics of one cluster (named counts, summed over a resample's clusters). */
  ofCluster(metrics: BenchmarkMetrics): Record<string, number>;
  /**
   * Given every statistic name that occurs (`keys`) and the headline names wanted, a function from
   * the sums (indexed like `keys`) to the headline values, NaN where the metric has none (null).
   */
  headline(keys: readonly string[], names: readonly string[]): (sums: Float64Array) => number[];
}

/**
 * The default: each headline metric's `correct` and `total` add up over clusters, and its value is
 * correct / total (null when total is 0), as for every metric that is a ratio of counts.
 */
export const RATIO_OF_SUMS: BootstrapStatistics = {
  ofCluster(metrics) {
    const out: Record<string, number> = {};
    for (const h of metrics.headline) {
      out[`correct\u0000${h.name}`] = h.correct;
      out[`total\u0000${h.name}`] = h.total;
    }
    return out;
  },
  headline(keys, names) {
    const at = names.map((n) => [keys.indexOf(`correct\u0000${n}`), keys.indexOf(`total\u0000${n}`)] as const);
    return (sums) => at.map(([c, t]) => (t < 0 || !(sums[t]! > 0) ? Number.NaN : (c < 0 ? 0 : sums[c]!) / sums[t]!));
  },
};

/**
 * The report's image-pair views of a family's items (src/analysis/pair-views.ts). `pairKey` names an
 * item's image pair in `groups` (two single-image items share it; an item holding both images has
 * its own); `agreement`: the baseline's image–image cosine per pair beside each arm's pair accuracy
 * (Li et al. v1's erroneous agreements); `modes`: MMVP's strict and relaxed pair accuracy with one
 * image per prompt (`vlm.mcq`) and both images in one prompt (`vlm.two-image`).
 */
export interface PairViews {
  pairKey: string;
  agreement: boolean;
  modes: boolean;
}

/** What the linear probe (src/analysis/probe.ts) reads of an item: its sample's fields. */
export interface ProbeItem {
  groups: Record<string, string>;
  options: string[];
  correct: number;
  /** The item's image files, in order. */
  images: string[];
}

/**
 * A family whose items have classes the linear probe can predict from an image embedding
 * (What'sUp: the preposition; MMVP-VLM: the statement side; ARO VG-Relation: the relation).
 */
export interface ProbeDeclaration {
  /** What a class is, for the report ("preposition", "statement side", "relation"). */
  readonly target: string;
  /** Classes with fewer probe rows than this are left out of the probe (the report states it). */
  readonly minClassSamples: number;
  /** The fold group of an item: rows of one group are never on both sides of a fold. */
  group(item: ProbeItem): string;
  /** Per image of the item, the class of its correct option (undefined: not probed). */
  imageClasses(item: ProbeItem): Array<string | undefined>;
  /**
   * Per image and option, the option's class: the option's score is the probe's probability of it,
   * so the family's own metric applies. Absent where the options do not differ in class (ARO
   * VG-Relation's two captions share the relation): the probe then reports class accuracy only.
   */
  optionClasses?(item: ProbeItem): Array<Array<string | undefined>>;
}

export interface LoadOptions {
  /**
   * Default true: a row whose image is missing or unreadable fails. `perceive metrics` passes false
   * (it needs no images); image paths are still resolved and must stay inside the data dir.
   */
  checkImages?: boolean;
}

/**
 * A benchmark family: reads the authors' files into items and scores them with the authors'
 * metric, in one or more conventions. Knows nothing about models.
 *
 * Contract:
 * - `load` validates every row at the edge; a bad row becomes a `LoadFailure` naming file, row and
 *   field, and the other rows still load. An image path that is absolute or climbs out of the data
 *   dir (`..`) fails its row (see `data-path.ts`). Items carry `groups.convention`.
 * - Item ids are `<spec.name>/<row>` (row = 0-based index in the annotation file; MMVP-style pair
 *   families: `<spec.name>/<pair>`); `externalId` gives the id a user's SCORES.jsonl uses.
 * - `metrics` receives items of one benchmark and one convention; items absent from `scores` are
 *   missing (failed) and excluded as the family documents, never counted wrong.
 */
export interface BenchmarkFamily {
  readonly format: BenchmarkFormat;
  /** The conventions this family scores in; the first is the default. */
  readonly conventions: readonly Convention[];
  /** The published subsets (for `perceive metrics --benchmark` and `perceive data check`). */
  readonly subsets: readonly BenchmarkSubset[];
  /** Published files with known (or unknown) checksums. */
  readonly publishedFiles: readonly PublishedFile[];
  /**
   * How letter-scored arms present the options when the config does not say (`option_order`):
   * `fixed` where the authors' protocol presents them in file order (MMVP); absent = `circular`.
   */
  readonly defaultOptionOrder?: OptionOrder;
  load(spec: BenchmarkSpec, options?: LoadOptions): Promise<{ items: Item[]; failures: LoadFailure[]; companions?: CompanionFile[]; quirks?: DataQuirk[] }>;
  /** The option an arm picked for an item and whether that is right, by the convention's rule. */
  judge(item: Item, scores: ScoreMatrix): { prediction: number; correct: boolean };
  metrics(items: Item[], scores: Map<string, ScoreMatrix>): BenchmarkMetrics;
  /** The bootstrap's resampling cluster and statistics; absent = each item alone, `RATIO_OF_SUMS`. */
  readonly bootstrap?: BootstrapDeclaration;
  /** The classes the linear probe predicts; absent = the family has none (no probe). */
  readonly probe?: ProbeDeclaration;
  /** The image-pair views the report shows for this family; absent = none. */
  readonly pairViews?: PairViews;
  /** The id of the item in a user's SCORES.jsonl: the 0-based row index (pair index for MMVP). */
  externalId(item: Item): string;
  /**
   * Optional: turns a user's score matrix, in the authors' option order, into the item's matrix
   * (e.g. What'sUp 4 caption scores → the 2 of a `clip_embeds_2way` item). Returns a reason string
   * when the shape is wrong. Without it the matrix must already have the item's shape.
   */
  fromExternalScores?(item: Item, scores: ScoreMatrix): ScoreMatrix | string;
}

/**
 * Items as a family returns them: ids `<spec.name>/<row>`, the config's benchmark name, and the
 * convention stamped in `groups.convention` (see the contract above).
 */
export function stampItems(items: Item[], spec: BenchmarkSpec, convention: string): Item[] {
  return items.map((i) => ({ ...i, id: `${spec.name}/${i.source.row}`, benchmark: spec.name, groups: { ...i.groups, convention } }));
}

/** The options every family passes its loader from a config entry (limit and checkImages only when set). */
export function loaderOptions(spec: BenchmarkSpec, options?: LoadOptions): { dataDir: string; subset: string; limit?: number; checkImages?: false } {
  return {
    dataDir: spec.data_dir,
    subset: spec.subset,
    ...(spec.limit === undefined ? {} : { limit: spec.limit }),
    ...(options?.checkImages === false ? { checkImages: false as const } : {}),
  };
}
