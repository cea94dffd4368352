import type { Sample } from '../store/sample.js';
import { type ImageRef, thumbnailName } from './thumbnails.js';

/** The folder beside report.html that holds the explorer's data (`index.js`, `arm-<a>.js`, `items-<k>.js`). */
export const EXPLORER_DATA_DIR = 'report-data';

/** Items per detail file: a page of rows loads at most a few of them. */
export const EXPLORER_CHUNK_ITEMS = 256;

/**
 * One arm's outcome on one item, one character per item in `outcome[arm]`:
 * right, wrong, failed, or no sample of this arm for the item.
 */
export const OUTCOME = { right: 'r', wrong: 'w', failed: 'f', absent: '.' } as const;

/** The arm pairs the explorer offers: each compared arm against its baseline, as the summary's 2x2 tables pair them. */
export interface ExplorerPair {
  arm: string;
  baseline: string;
}

interface ItemEntry {
  benchmark: string;
  id: string;
  images: ImageRef[];
  options: string[];
  correct: number;
  /** arm index → outcome character, prediction, margin, error. */
  arms: Map<number, { outcome: string; prediction: number | null; margin: number; error: string | null }>;
}

/**
 * A sample's score margin: on the first image's row, the correct option's score minus the best
 * other option's (positive when the arm is right by a clear argmax); NaN when there is no such row.
 */
export function scoreMargin(s: Pick<Sample, 'scores' | 'correct_option'>): number {
  const row = s.scores?.[0];
  if (!row || row.length < 2 || s.correct_option < 0 || s.correct_option >= row.length) return Number.NaN;
  let best = Number.NEGATIVE_INFINITY;
  for (const [i, v] of row.entries()) if (i !== s.correct_option && v > best) best = v;
  const m = row[s.correct_option]! - best;
  return Number.isFinite(m) ? m : Number.NaN;
}

/** Item ids in numeric order (`x/2` before `x/10`), as the summary orders them. */
const byNumericId = new Intl.Collator('en', { numeric: true }).compare;

export interface ExplorerFiles {
  /** `report-data/index.js`: item count, benchmark ranges, arm ids, arm pairs. */
  index: string;
  /** `report-data/arm-<a>.js`: one arm's columns over every item (outcome and pick characters, Float32 margins); the page loads the selected pair's two. */
  arms: string[];
  /** `report-data/items-<k>.js`: what a row shows (ids, images, options, failures), EXPLORER_CHUNK_ITEMS items each. */
  chunks: string[];
  items: number;
}

/**
 * Collects the samples of a run, one at a time, into the explorer's compact data: items ordered by
 * benchmark then numeric id; per arm (its own file, so opening the page costs two arms whatever
 * their number) one character per item for the outcome and one for the prediction, and a Float32
 * score margin per item (base64); arm ids and benchmark names interned, option strings interned per
 * detail file. Only what a visible row shows lives in the detail files. The page loads the arm and
 * detail files on demand through `<script src>` (fetch() is refused from file://).
 */
export class ExplorerDataBuilder {
  private readonly items = new Map<string, ItemEntry>();
  private readonly armIndex = new Map<string, number>();
  private readonly benchmarkOrder = new Map<string, number>();

  private arm(name: string): number {
    let k = this.armIndex.get(name);
    if (k === undefined) this.armIndex.set(name, (k = this.armIndex.size));
    return k;
  }

  add(s: Sample): void {
    const key = `${s.benchmark}\u0000${s.item}`;
    let e = this.items.get(key);
    if (!e) {
      if (!this.benchmarkOrder.has(s.benchmark)) this.benchmarkOrder.set(s.benchmark, this.benchmarkOrder.size);
      e = { benchmark: s.benchmark, id: s.item, images: s.images, options: s.options, correct: s.correct_option, arms: new Map() };
      this.items.set(key, e);
    }
    const failed = s.status === 'failed' || s.correct === null;
    e.arms.set(this.arm(s.arm), {
      outcome: failed ? OUTCOME.failed : s.correct ? OUTCOME.right : OUTCOME.wrong,
      prediction: failed ? null : s.prediction,
      margin: failed ? Number.NaN : scoreMargin(s),
      error: failed ? (s.error ? `${s.error.code}: ${s.error.message}`.slice(0, 300) : 'no result') : null,
    });
  }

  /** Every distinct image of the items (for the thumbnails). */
  *images(): Iterable<ImageRef> {
    for (const e of this.items.values()) yield* e.images;
  }

  /** The data files for these arm pairs; `thumbnails` holds the thumbnail names that exist (others show the file name). */
  build(pairs: ExplorerPair[], thumbnails: ReadonlySet<string>): ExplorerFiles {
    const order = [...this.items.values()].sort(
      (a, b) => this.benchmarkOrder.get(a.benchmark)! - this.benchmarkOrder.get(b.benchmark)! || byNumericId(a.id, b.id),
    );
    const arms = [...this.armIndex.keys()];
    const n = order.length;
    const outcome = arms.map(() => new Array<string>(n));
    const prediction = arms.map(() => new Array<string>(n));
    const margin = arms.map(() => new Float32Array(n).fill(Number.NaN));
    const benchmarks: Array<[string, number, number]> = [];
    for (const [i, e] of order.entries()) {
      const last = benchmarks.at(-1);
      if (last && last[0] === e.benchmark) last[2] = i + 1;
      else benchmarks.push([e.benchmark, i, i + 1]);
      for (let a = 0; a < arms.length; a++) {
        const r = e.arms.get(a);
        outcome[a]![i] = r?.outcome ?? OUTCOME.absent;
        // Predictions as one character: 0–9 then a–z (options beyond 36 show as '?'), '.' when none.
        prediction[a]![i] = r?.prediction === null || r?.prediction === undefined ? '.' : r.prediction < 36 ? r.prediction.toString(36) : '?';
        if (r) margin[a]![i] = r.margin;
      }
    }
    const pairIndex = pairs.flatMap((p) => {
      const a = this.armIndex.get(p.arm);
      const b = this.armIndex.get(p.baseline);
      return a === undefined || b === undefined ? [] : [[a, b]];
    });
    const index = { v: 2, n, chunk: EXPLORER_CHUNK_ITEMS, benchmarks, arms, pairs: pairIndex };
    const armFiles = arms.map((_, a) => {
      const m = margin[a]!;
      const columns = {
        outcome: outcome[a]!.join(''),
        prediction: prediction[a]!.join(''),
        // Little-endian Float32 (the byte order of every browser's typed arrays on the platforms that run them).
        margin: Buffer.from(m.buffer, m.byteOffset, m.byteLength).toString('base64'),
      };
      return `PERCEIVE_EXPLORER_ARM(${a},${JSON.stringify(columns)});\n`;
    });
    const chunks: string[] = [];
    for (let start = 0; start < n; start += EXPLORER_CHUNK_ITEMS) {
      const part = order.slice(start, start + EXPLORER_CHUNK_ITEMS);
      const strings: string[] = [];
      const stringIndex = new Map<string, number>();
      const intern = (x: string): number => {
        let k = stringIndex.get(x);
        if (k === undefined) {
          stringIndex.set(x, (k = strings.length));
          strings.push(x);
        }
        return k;
      };
      const errors: Record<string, Record<string, string>> = {};
      const rows = part.map((e, j) => {
        for (const [a, r] of e.arms) if (r.error) (errors[j] ??= {})[a] = r.error;
        const prefix = `${e.benchmark}/`;
        return [
          // The id without its benchmark prefix ('=' + the whole id when it has none).
          e.id.startsWith(prefix) ? e.id.slice(prefix.length) : `=${e.id}`,
          // Thumbnail names without '.jpg', or '!' + the file's name when no thumbnail could be made.
          e.images.map((img) => {
            const t = thumbnailName(img);
            return thumbnails.has(t) ? t.slice(0, -4) : `!${img.path.split('/').pop() ?? img.path}`;
          }),
          e.options.map(intern),
          e.correct,
        ];
      });
      chunks.push(`PERCEIVE_EXPLORER_CHUNK(${chunks.length},${JSON.stringify({ s: strings, rows, errors })});\n`);
    }
    return { index: `window.PERCEIVE_EXPLORER=${JSON.stringify(index)};\n`, arms: armFiles, chunks, items: n };
  }
}
