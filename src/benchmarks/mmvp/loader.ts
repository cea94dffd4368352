/**
 * MMVP (the MLLM benchmark, Tong et al., CVPR 2024) loader.
 *
 * Ported (not copied) from `tsb0601/MMVP@763500597e65c3446f09047837ceda76f4e264bf:scripts/evaluate_mllm.py`
 * (`eval_model`) and `EvolvingLMMs-Lab/lmms-eval@75571cfe0fa36ca5ec2e6aa2bb268f9d38295af3:lmms_eval/tasks/mmvp/utils.py`
 * (`_parse_options`, `_normalize_answer`, `mmvp_process_results`):
 *
 * - `<dir>/Questions.csv` has the columns `Index, Question, Options, Correct Answer` (pandas reads them by
 *   name; the first column's name is not used by the authors, so `lndex` as in CLIP-Embeds' copy is accepted).
 * - The image of data row `r` (0-based) is `<dir>/MMVP Images/<r + 1>.jpg`: the authors use the row
 *   position (`photo_id = index + 1`), not the Index column. `MMVP_Images/` (CLIP-Embeds' folder name) works too.
 * - Options `(a) X (b) Y` are parsed as lmms-eval's `_parse_options` does; `Correct Answer` `(a)`/`(b)` is
 *   normalised as `_normalize_answer` does (contains "(a)" or equals "a" → option 0; "(b)"/"b" → option 1).
 * - Pairs are consecutive rows (`gpt_grader.py` counts lines two by two): `groups.pair = floor(r / 2)`.
 *   Both rows of every published pair ask the same question; a pair whose rows do not (a dropped or
 *   duplicated row shifts every later pair) fails both rows, naming the misalignment.
 *   lmms-eval pairs by `(Index - 1) // 2` instead: `groups.index_pair`.
 *
 * Each question becomes an item with one image and its two options, answered by option scores
 * (`scores[0][option]`). The question text is in `meta.question`.
 */
import path from 'node:path';
import { ItemSchema, type Item } from '../../core/item.js';
import { isReadableFile, joinInsideDataDir } from '../../core/data-path.js';
import { readCsvTable, rowReason, type CsvRecord } from '../shared/csv-table.js';
import { applyErratum, MMVP_ERRATA_V1, type ErratumOutcome, type MmvpErrataTable } from './errata.js';
import { PerceiveError } from '../../core/errors.js';
import { quirk, type DataQuirk } from '../shared/data-quirk.js';

export interface MmvpLoadFailure {
  source: { file: string; row: number };
  reason: string;
}

export interface MmvpLoadOptions {
  /** The MMVP directory (holds `MMVP Images/`); default: the folder of the annotation file. */
  dataDir?: string;
  subset?: string;
  limit?: number;
  /** Default true; false (perceive metrics) skips looking for the images. */
  checkImages?: boolean;
  /** Errata table to apply; `null` = none. Default `mmvp-errata-v1`. Both figures are reported either way. */
  errata?: MmvpErrataTable | null;
}

export const MMVP_IMAGE_FOLDERS = ['MMVP Images', 'MMVP_Images'] as const;

/**
 * lmms-eval `_parse_options`: every `(x) text` up to the next `(y)` or the end, stripped.
 * Returns the option texts (an option containing "(" is cut there, as in lmms-eval's regex).
 */
export function parseMmvpOptions(options: string): string[] {
  const re = /\([a-z]\)\s*([^(]+?)(?=\s*\([a-z]\)|$)/gi;
  const out: string[] = [];
  for (const m of options.matchAll(re)) out.push((m[1] ?? '').trim());
  return out;
}

/** lmms-eval `_normalize_answer` → option index, or undefined when it is neither A nor B. */
export function normalizeMmvpAnswer(answer: string): number | undefined {
  const a = answer.trim().toLowerCase();
  if (a.includes('(a)') || a === 'a') return 0;
  if (a.includes('(b)') || a === 'b') return 1;
  return undefined;
}

const HEADER = ['index', 'question', 'options', 'correct answer'];

function checkHeader(file: string, header: string[]): void {
  const got = header.map((h) => h.trim().toLowerCase());
  const first = got[0];
  const ok = got.length >= 4 && (first === 'index' || first === 'lndex') && got.slice(1, 4).join('|') === HEADER.slice(1).join('|');
  if (!ok) {
    throw new PerceiveError(
      'mmvp-bad-header',
      `${file} line 1: header ${JSON.stringify(header)} is not Index,Question,Options,Correct Answer (MMVP Questions.csv)`,
      { hint: 'Expected the Questions.csv of the MMVP benchmark (huggingface MMVP/MMVP).' },
    );
  }
}

/** The image in the first of MMVP_IMAGE_FOLDERS that has it; without `checkImages`, the first folder's path. */
async function findImage(dataDir: string, name: string, checkImages: boolean): Promise<string | undefined> {
  for (const folder of MMVP_IMAGE_FOLDERS) {
    const p = joinInsideDataDir(dataDir, `${folder}/${name}`);
    if (typeof p !== 'string') continue; // cannot happen: the name is built from a row number
    if (!checkImages || (await isReadableFile(p))) return p;
  }
  return undefined;
}

export async function loadMmvp(
  annotationFile: string,
  options: MmvpLoadOptions = {},
): Promise<{ items: Item[]; failures: MmvpLoadFailure[]; errata: ErratumOutcome[]; quirks: DataQuirk[] }> {
  const dataDir = options.dataDir ?? path.dirname(annotationFile);
  const subset = options.subset ?? 'mmvp';
  const errataTable = options.errata === undefined ? MMVP_ERRATA_V1 : options.errata;
  const table = await readCsvTable(annotationFile, 'MMVP Questions.csv', 'pandas'); // evaluate_mllm.py: pd.read_csv
  checkHeader(annotationFile, table.header);
  const records: CsvRecord[] = options.limit === undefined ? table.records : table.records.slice(0, options.limit);
  const items: Item[] = [];
  const failures: MmvpLoadFailure[] = [];
  const errata: ErratumOutcome[] = [];

  for (const rec of records) {
    const fail = (field: string, message: string): void => {
      failures.push({ source: { file: annotationFile, row: rec.row }, reason: rowReason(annotationFile, rec, field, message) });
    };
    const [indexCell, question, optionsText, answer] = rec.cells;
    if (rec.cells.length < 4 || indexCell === undefined || question === undefined || optionsText === undefined || answer === undefined) {
      fail('(row)', `expected 4 columns (Index, Question, Options, Correct Answer), got ${rec.cells.length}`);
      continue;
    }
    const index = /^\s*\d+\s*$/.test(indexCell) ? Number(indexCell) : Number.NaN;
    if (!Number.isInteger(index) || index < 1) {
      fail('Index', `${JSON.stringify(indexCell)} is not a positive integer`);
      continue;
    }
    if (question.trim() === '') {
      fail('Question', 'empty');
      continue;
    }
    const opts = parseMmvpOptions(optionsText);
    if (opts.length !== 2 || opts.some((o) => o === '')) {
      fail('Options', `${JSON.stringify(optionsText)} does not parse as "(a) X (b) Y" (got ${opts.length} options)`);
      continue;
    }
    const label = normalizeMmvpAnswer(answer);
    if (label === undefined) {
      fail('Correct Answer', `${JSON.stringify(answer)} is neither (a) nor (b)`);
      continue;
    }
    const photoId = rec.row + 1; // evaluate_mllm.py: photo_id = index + 1 (row position)
    const image = await findImage(dataDir, `${photoId}.jpg`, options.checkImages !== false);
    if (image === undefined) {
      fail('(image)', `image ${photoId}.jpg not found or unreadable in ${MMVP_IMAGE_FOLDERS.map((f) => path.join(dataDir, f)).join(' or ')}`);
      continue;
    }
    const outcome = errataTable === null ? undefined : applyErratum(errataTable, index, question, label);
    if (outcome !== undefined) errata.push(outcome);
    const correct = outcome?.correctedCorrect ?? label;
    const originalCorrect = outcome?.originalCorrect ?? label;
    items.push(
      ItemSchema.parse({
        id: `${subset}/${rec.row}`,
        benchmark: 'mmvp',
        subset,
        images: [image],
        options: opts,
        correct,
        // Everything the metrics read is in groups (they survive samples.jsonl; meta does not).
        groups: {
          pair: String(Math.floor(rec.row / 2)),
          index_pair: String(Math.floor((index - 1) / 2)),
          index: String(index),
          original_correct: String(originalCorrect),
        },
        source: { file: annotationFile, row: rec.row },
        meta: {
          question,
          index,
          options_text: optionsText,
          correct_answer: answer,
          original_correct: originalCorrect,
          erratum: outcome === undefined ? null : { table: errataTable?.version, status: outcome.status },
        },
      }),
    );
  }
  const aligned = checkPairsShareQuestion(annotationFile, items);
  failures.push(...aligned.failures);
  failures.sort((a, b) => a.source.row - b.source.row);
  const indexNotRow = records.flatMap((rec) => (/^\s*\d+\s*$/.test(rec.cells[0] ?? '') && Number(rec.cells[0]) !== rec.row + 1 ? [rec.row] : []));
  const quirks = [quirk(annotationFile, 'Index column differs from row position + 1 (images and pairs follow the row position)', indexNotRow)];
  return { items: aligned.items, failures, errata, quirks };
}

/**
 * gpt_grader.py pairs consecutive rows; the two rows of a pair ask the same question in every published
 * row. A pair whose rows ask different questions means a row was dropped or duplicated above it (every
 * later pair is shifted): both rows fail with that reason instead of being scored as a pair.
 */
function checkPairsShareQuestion(file: string, items: Item[]): { items: Item[]; failures: MmvpLoadFailure[] } {
  const byPair = new Map<string, Item[]>();
  for (const item of items) byPair.set(item.groups.pair ?? '', [...(byPair.get(item.groups.pair ?? '') ?? []), item]);
  const bad = new Set<string>();
  const failures: MmvpLoadFailure[] = [];
  for (const [pair, rows] of byPair) {
    const [a, b] = rows;
    if (a === undefined || b === undefined) continue;
    const qa = String(a.meta.question).trim();
    const qb = String(b.meta.question).trim();
    if (qa === qb) continue;
    for (const item of [a, b]) {
      bad.add(item.id);
      failures.push({
        source: item.source,
        reason: `${file} row ${item.source.row}: field Question: pair ${pair} (rows ${a.source.row} and ${b.source.row}) asks ${JSON.stringify(qa)} and ${JSON.stringify(qb)}: misaligned pair (a row dropped or duplicated above shifts every later pair)`,
      });
    }
  }
  return { items: items.filter((i) => !bad.has(i.id)), failures };
}
