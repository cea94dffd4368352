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

interface ArmResult {
  outcome: string;
  prediction: number | null;
  margin: number;
  error: string | null;
}

interface ItemEntry {
  id: string;
  images: ImageRef[];
  options: string[];
  correct: number;
  /** arm index → outcome character, prediction, margin, error. */
  arms: Array<ArmResult | undefined>;
}

/** A row of a detail file before its chunk's strings are interned. */
interface PendingRow {
  id: string;
  thumbs: string[];
  options: string[];
  correct: number;
  errors: Array<[number, string]>;
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

function armResult(s: Sample): ArmResult {
  const failed = s.status === 'failed' || s.correct === null;
  return {
    outcome: failed ? OUTCOME.failed : s.correct ? OUTCOME.right : OUTCOME.wrong,
    prediction: failed ? null : s.prediction,
    margin: failed ? Number.NaN : scoreMargin(s),
    error: failed ? (s.error ? `${s.error.code}: ${s.error.message}`.slice(0, 300) : 'no result') : null,
  };
}

/**
 * Writes the explorer's compact data one benchmark at a time: items ordered by benchmark (in the
 * order they are added) then numeric id; per arm (its own file, so opening the page costs two arms
 * whatever their number) one character per item for the outcome and one for the prediction, and a
 * Float32 score margin per item (base64); arm ids and benchmark names interned, option strings
 * interned per detail file. Only what a visible row shows lives in the detail files, which are
 * handed to `emitChunk` as soon as EXPLORER_CHUNK_ITEMS items are in; what stays across benchmarks
 * is the arms' columns (two characters and a Float32 per item and arm) and at most one chunk's rows.
 * The page loads the arm and detail files on demand through `<script src>` (fetch() is refused from
 * file://).
 */
export class ExplorerDataWriter {
  private readonly armIndex: Map<string, number>;
  private readonly outcome: string[][];
  private readonly prediction: string[][];
  private readonly margin: Float32Array[][];
  private readonly benchmarks: Array<[string, number, number]> = [];
  private n = 0;
  private pending: PendingRow[] = [];
  private chunks = 0;

  /** `arms`: every arm of the samples to come, in the order of its first sample. */
  constructor(
    private readonly arms: readonly string[],
    private readonly emitChunk: (k: number, text: string) => void,
  ) {
    this.armIndex = new Map(arms.map((a, k) => [a, k]));
    this.outcome = arms.map(() => []);
    this.prediction = arms.map(() => []);
    this.margin = arms.map(() => []);
  }

  /** Every sample of one benchmark, in file order; `thumbnails` holds the thumbnail names that exist (others show the file name). */
  addBenchmark(benchmark: string, samples: Iterable<Sample>, thumbnails: ReadonlySet<string>): void {
    const items = new Map<string, ItemEntry>();
    for (const s of samples) {
      let e = items.get(s.item);
      if (!e) items.set(s.item, (e = { id: s.item, images: s.images, options: s.options, correct: s.correct_option, arms: [] }));
      const a = this.armIndex.get(s.arm);
      if (a === undefined) throw new Error(`explorer: arm ${s.arm} is not among ${this.arms.join(', ')}`);
      e.arms[a] = armResult(s);
    }
    if (items.size === 0) return;
    const order = [...items.values()].sort((x, y) => byNumericId(x.id, y.id));
    const start = this.n;
    this.n += order.length;
    this.benchmarks.push([benchmark, start, this.n]);
    for (let a = 0; a < this.arms.length; a++) {
      const outcome = new Array<string>(order.length);
      const prediction = new Array<string>(order.length);
      const margin = new Float32Array(order.length).fill(Number.NaN);
      for (const [i, e] of order.entries()) {
        const r = e.arms[a];
        outcome[i] = r?.outcome ?? OUTCOME.absent;
        // Predictions as one character: 0–9 then a–z (options beyond 36 show as '?'), '.' when none.
        prediction[i] = r?.prediction === null || r?.prediction === undefined ? '.' : r.prediction < 36 ? r.prediction.toString(36) : '?';
        if (r) margin[i] = r.margin;
      }
      this.outcome[a]!.push(outcome.join(''));
      this.prediction[a]!.push(prediction.join(''));
      this.margin[a]!.push(margin);
    }
    const prefix = `${benchmark}/`;
    for (const e of order) {
      const errors: Array<[number, string]> = [];
      for (const [a, r] of e.arms.entries()) if (r?.error) errors.push([a, r.error]);
      this.pending.push({
        // The id without its benchmark prefix ('=' + the whole id when it has none).
        id: e.id.startsWith(prefix) ? e.id.slice(prefix.length) : `=${e.id}`,
        // Thumbnail names without '.jpg', or '!' + the file's name when no thumbnail could be made.
        thumbs: e.images.map((img) => {
          const t = thumbnailName(img);
          return thumbnails.has(t) ? t.slice(0, -4) : `!${img.path.split('/').pop() ?? img.path}`;
        }),
        options: e.options,
        correct: e.correct,
        errors,
      });
      if (this.pending.length === EXPLORER_CHUNK_ITEMS) this.flush();
    }
  }

  private flush(): void {
    if (this.pending.length === 0) return;
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
    const rows = this.pending.map((r, j) => {
      for (const [a, error] of r.errors) (errors[j] ??= {})[a] = error;
      return [r.id, r.thumbs, r.options.map(intern), r.correct];
    });
    this.emitChunk(this.chunks, `PERCEIVE_EXPLORER_CHUNK(${this.chunks},${JSON.stringify({ s: strings, rows, errors })});\n`);
    this.chunks++;
    this.pending = [];
  }

  /** The last detail file, then the index and the arm files, for these arm pairs. */
  finish(pairs: ExplorerPair[]): Omit<ExplorerFiles, 'chunks'> & { chunks: number } {
    this.flush();
    const pairIndex = pairs.flatMap((p) => {
      const a = this.armIndex.get(p.arm);
      const b = this.armIndex.get(p.baseline);
      return a === undefined || b === undefined ? [] : [[a, b]];
    });
    const index = { v: 2, n: this.n, chunk: EXPLORER_CHUNK_ITEMS, benchmarks: this.benchmarks, arms: this.arms, pairs: pairIndex };
    const armFiles = this.arms.map((_, a) => {
      const m = new Float32Array(this.n);
      let at = 0;
      for (const part of this.margin[a]!) {
        m.set(part, at);
        at += part.length;
      }
      const columns = {
        outcome: this.outcome[a]!.join(''),
        prediction: this.prediction[a]!.join(''),
        // Little-endian Float32 (the byte order of every browser's typed arrays on the platforms that run them).
        margin: Buffer.from(m.buffer, m.byteOffset, m.byteLength).toString('base64'),
      };
      return `PERCEIVE_EXPLORER_ARM(${a},${JSON.stringify(columns)});\n`;
    });
    return { index: `window.PERCEIVE_EXPLORER=${JSON.stringify(index)};\n`, arms: armFiles, chunks: this.chunks, items: this.n };
  }
}

/**
 * The explorer's data of samples added one at a time in any order (ExplorerDataWriter's files, held
 * in memory): benchmarks and arms in the order of their first sample.
 */
export class ExplorerDataBuilder {
  private readonly byBenchmark = new Map<string, Sample[]>();
  private readonly arms = new Set<string>();

  add(s: Sample): void {
    let list = this.byBenchmark.get(s.benchmark);
    if (!list) this.byBenchmark.set(s.benchmark, (list = []));
    list.push(s);
    this.arms.add(s.arm);
  }

  /** Every image of the items (for the thumbnails). */
  *images(): Iterable<ImageRef> {
    for (const list of this.byBenchmark.values()) for (const s of list) yield* s.images;
  }

  /** The data files for these arm pairs; `thumbnails` holds the thumbnail names that exist (others show the file name). */
  build(pairs: ExplorerPair[], thumbnails: ReadonlySet<string>): ExplorerFiles {
    const chunks: string[] = [];
    const writer = new ExplorerDataWriter([...this.arms], (k, text) => (chunks[k] = text));
    for (const [benchmark, list] of this.byBenchmark) writer.addBenchmark(benchmark, list, thumbnails);
    return { ...writer.finish(pairs), chunks };
  }
}
