/**
 * Statement files scored text-to-image: MMVP-VLM's `Questions.csv` and Li et al.'s
 * `additional_questions/Questions-clip.csv` (statements for the MMVP MLLM images).
 *
 * Ported (not copied) from `lst627/CLIP-Embeds@1c73a50a153ccc9d89e2eddabb69f8cc05f1a0be:Patch-Aligned-Contrastive-Learning/eval_clip.py`
 * and `…/eval_vqa_score.py`, function `eval_MMVP`, and from
 * `tsb0601/MMVP@763500597e65c3446f09047837ceda76f4e264bf:scripts/evaluate_vlm.py` (`benchmark_model`):
 *
 * - Both files are `csv.reader` files whose first line is skipped as a header, then rows
 *   `(qid, type, statement)` read by position. MMVP-VLM: `Question ID,Type,Statement`-like header,
 *   270 rows; Questions-clip.csv: `Question ID,Type,Statement`, 300 rows, type always `Unknown`.
 * - Rows pair up two by two in file order (`row = next(reader, None)`); a last row without a partner
 *   ends the authors' loop and is not scored (here: a failure naming the row, the other pairs go on).
 * - A pair must be qid n (odd) then n + 1, as in every published row: ground truth comes from qid
 *   parity, so a dropped or duplicated row would silently shift every later pair; such a pair fails.
 * - Images: MMVP-VLM `<dir>/MLLM_VLM Images/<type of the FIRST row>/<qid>.jpg` for both rows (the MMVP
 *   repo's folder name; CLIP-Embeds uses `MLLM_VLM_Images`, accepted too); Questions-clip.csv
 *   `<dir>/MMVP Images/<qid>.jpg` (CLIP-Embeds: `MMVP_Images`, accepted too).
 * - Texts: `'a photo of ' + statement`; ground truth: statement `qid` belongs to image 1 when qid is odd,
 *   else image 2; category = `categories[pair_index // 15]` (by position, not by the type column).
 * - The question for prompts that need one (`meta.question` = `meta.vlm2vec_question`): as
 *   `lst627/CLIP-Embeds@1c73a50:VLM2Vec/eval_llava15.py` `eval_MMVP` takes it, `questions[qid1 - 1]` (by the
 *   first row's qid, for both images), where `questions` is column 1 of `Questions-llava.csv` next to the
 *   annotation file for MMVP-VLM (its header starts `lndex`, a lower-case L, and is skipped like any
 *   header) or of MMVP's `Questions.csv` next to it for Questions-clip.csv. A questions file that is absent
 *   or cannot be read never stops the statements: it is reported as a companion (`companions`), and
 *   items carry `meta.question_missing` (the reason) instead of a question.
 *
 * One item per pair: `images = [img1, img2]`, `options = ['a photo of ' + statement1, 'a photo of ' + statement2]`,
 * `correct` = the image index statement 1 belongs to, `meta.gt = [gt1, gt2]` (image indices),
 * `source.row` = the pair index, `meta.rows` = the two 0-based data rows.
 * Arms fill `scores[image][option]`; `metrics.ts` reads it text-to-image (column by column).
 */
import path from 'node:path';
import { PerceiveError, errorMessage } from '../../core/errors.js';
import { ItemSchema, type Item } from '../../core/item.js';
import type { CompanionFile } from '../benchmark-family.js';
import { isReadableFile, joinInsideDataDir } from '../../core/data-path.js';
import { readCsvTable, rowReason, type CsvRecord } from '../shared/csv-table.js';

export type StatementLayout = 'mmvp-vlm' | 'mmvp-clip';

/** evaluate_vlm.py / eval_MMVP `categories`, in the authors' order; 15 pairs each. */
export const MMVP_VLM_CATEGORIES = [
  'Orientation and Direction',
  'Presence of Specific Features',
  'State and Condition',
  'Quantity and Count',
  'Positional and Relational Context',
  'Color and Appearance',
  'Structural Characteristics',
  'Texts',
  'Viewpoint and Perspective',
] as const;
export const MMVP_CLIP_CATEGORIES = ['Unknown'] as const;
export const PAIRS_PER_CATEGORY = 15;

export function categoriesFor(layout: StatementLayout): readonly string[] {
  return layout === 'mmvp-vlm' ? MMVP_VLM_CATEGORIES : MMVP_CLIP_CATEGORIES;
}

const IMAGE_FOLDERS: Record<StatementLayout, readonly string[]> = {
  'mmvp-vlm': ['MLLM_VLM Images', 'MLLM_VLM_Images'],
  'mmvp-clip': ['MMVP Images', 'MMVP_Images'],
};

export const T2I_TEXT_PREFIX = 'a photo of ';

export interface StatementLoadFailure {
  source: { file: string; row: number };
  reason: string;
}

export interface StatementLoadOptions {
  layout: StatementLayout;
  /** Folder holding the image folder; default: the annotation file's folder. */
  dataDir?: string;
  subset?: string;
  /** Read only the first `limit` pairs. */
  limit?: number;
  /** Default true; false (perceive metrics) skips looking for the images. */
  checkImages?: boolean;
  /** The questions file; default: Questions-llava.csv (mmvp-vlm) / Questions.csv (mmvp-clip) beside the annotations, if present. */
  questionsFile?: string | null;
}

/** Column 1 of every data row of a questions file (Questions-llava.csv or MMVP's Questions.csv). */
export async function readQuestionColumn(file: string): Promise<string[]> {
  const table = await readCsvTable(file, 'questions file');
  const first = (table.header[0] ?? '').trim().toLowerCase();
  if (first !== 'lndex' && first !== 'index') {
    throw new PerceiveError(
      'mmvp-bad-header',
      `${file} line 1: header ${JSON.stringify(table.header)} should start with "lndex" (Questions-llava.csv) or "Index" (Questions.csv)`,
    );
  }
  return table.records.map((r) => r.cells[1] ?? '');
}

interface ParsedRow {
  rec: CsvRecord;
  qid: number;
  type: string;
  statement: string;
}

function parseRow(file: string, rec: CsvRecord): ParsedRow | string {
  if (rec.cells.length !== 3) {
    return rowReason(file, rec, '(row)', `expected 3 columns (qid, Type, Statement), got ${rec.cells.length}`);
  }
  const [qidCell, type, statement] = rec.cells as [string, string, string];
  if (!/^\s*-?\d+\s*$/.test(qidCell)) return rowReason(file, rec, 'qid', `${JSON.stringify(qidCell)} is not an integer`);
  if (type.trim() === '') return rowReason(file, rec, 'Type', 'empty');
  if (statement.trim() === '') return rowReason(file, rec, 'Statement', 'empty');
  return { rec, qid: Number(qidCell), type, statement };
}

async function findImage(
  dataDir: string,
  layout: StatementLayout,
  type: string,
  qid: number,
  checkImages: boolean,
): Promise<{ path?: string; reason?: string }> {
  // The type column names a folder: it must not climb out of the data dir either.
  if (layout === 'mmvp-vlm' && (type.includes('/') || type.includes('\\') || type === '..' || type === '.')) {
    return { reason: `type folder ${JSON.stringify(type)} is not a plain folder name (image paths must stay inside the data dir)` };
  }
  for (const folder of IMAGE_FOLDERS[layout]) {
    const rel = layout === 'mmvp-vlm' ? `${folder}/${type}/${qid}.jpg` : `${folder}/${qid}.jpg`;
    const p = joinInsideDataDir(dataDir, rel);
    if (typeof p !== 'string') return { reason: `image path ${p.reason}` };
    if (!checkImages || (await isReadableFile(p))) return { path: p };
  }
  const where = IMAGE_FOLDERS[layout].map((f) => (layout === 'mmvp-vlm' ? path.join(dataDir, f, type) : path.join(dataDir, f))).join(' or ');
  return { reason: `image ${qid}.jpg not found or unreadable in ${where}` };
}

/**
 * The questions file, read without ever aborting the statements: only prompts that ask the question
 * (VLM2Vec's, convention `clip_embeds_vlm2vec`) need it. An absent default file is `absent`; a file
 * that cannot be read (or is another benchmark's `Questions.csv`) is `unreadable` with the reason.
 */
async function readQuestionsCompanion(questionsFile: string | null, explicit: boolean): Promise<{ questions?: string[]; companion?: CompanionFile }> {
  if (questionsFile === null) return {};
  const neededBy = QUESTIONS_NEEDED_BY;
  if (!explicit && !(await isReadableFile(questionsFile))) {
    return { companion: { role: 'questions', file: questionsFile, status: 'absent', reason: 'not present', neededBy } };
  }
  try {
    const questions = await readQuestionColumn(questionsFile);
    return { questions, companion: { role: 'questions', file: questionsFile, status: 'read', reason: null, neededBy } };
  } catch (error) {
    return { companion: { role: 'questions', file: questionsFile, status: 'unreadable', reason: errorMessage(error), neededBy } };
  }
}

/** What the questions file adds (data check, perceive metrics and the missing-question reason say it). */
export const QUESTIONS_NEEDED_BY =
  'the question of VLM2Vec prompts (`questions[qid1-1]`: arm vlm2vec.question, convention clip_embeds_vlm2vec as eval_llava15.py runs it)';

export async function loadMmvpStatements(
  annotationFile: string,
  options: StatementLoadOptions,
): Promise<{ items: Item[]; failures: StatementLoadFailure[]; companions: CompanionFile[] }> {
  const { layout } = options;
  const dataDir = options.dataDir ?? path.dirname(annotationFile);
  const subset = options.subset ?? layout;
  const table = await readCsvTable(annotationFile, layout === 'mmvp-vlm' ? 'MMVP-VLM Questions.csv' : 'Questions-clip.csv');
  if (/^\s*-?\d+\s*$/.test(table.header[0] ?? '')) {
    throw new PerceiveError(
      'mmvp-bad-header',
      `${annotationFile} line 1: ${JSON.stringify(table.header)} looks like a data row, but the authors' code skips line 1 as the header`,
      { hint: 'Add the header line `Question ID,Type,Statement`.' },
    );
  }
  const defaultQuestions = path.join(path.dirname(annotationFile), layout === 'mmvp-vlm' ? 'Questions-llava.csv' : 'Questions.csv');
  const questionsFile = options.questionsFile === undefined ? defaultQuestions : options.questionsFile;
  const { questions, companion } = await readQuestionsCompanion(questionsFile, options.questionsFile !== undefined && options.questionsFile !== null);
  const companions = companion === undefined ? [] : [companion];
  const questionMissing =
    companion === undefined
      ? 'no questions file'
      : companion.status === 'read'
        ? undefined
        : `questions file ${companion.file} ${companion.status === 'absent' ? 'not present' : `unreadable: ${companion.reason}`}`;

  const categories = categoriesFor(layout);
  const items: Item[] = [];
  const failures: StatementLoadFailure[] = [];
  const nPairs = Math.ceil(table.records.length / 2);
  const maxPairs = options.limit === undefined ? nPairs : Math.min(nPairs, options.limit);
  for (let pair = 0; pair < maxPairs; pair++) {
    const r1 = table.records[2 * pair] as CsvRecord;
    const r2 = table.records[2 * pair + 1];
    // A pair item's `row` is the pair index (its id and its SCORES.jsonl id); the reasons name file rows.
    const source = { file: annotationFile, row: pair };
    const fail = (reason: string): void => {
      failures.push({ source, reason: `pair ${pair}: ${reason}` });
    };
    if (r2 === undefined) {
      fail(rowReason(annotationFile, r1, '(row)', "last row has no partner: incomplete pair (the authors' loop stops here and never scores it)"));
      continue;
    }
    const p1 = parseRow(annotationFile, r1);
    const p2 = parseRow(annotationFile, r2);
    if (typeof p1 === 'string' || typeof p2 === 'string') {
      fail([p1, p2].filter((p): p is string => typeof p === 'string').join('; '));
      continue;
    }
    const catIndex = layout === 'mmvp-vlm' ? Math.floor(pair / PAIRS_PER_CATEGORY) : 0;
    const category = categories[catIndex];
    if (category === undefined) {
      fail(
        rowReason(
          annotationFile,
          r1,
          '(row)',
          `pair ${pair} is beyond the ${categories.length} categories × ${PAIRS_PER_CATEGORY} pairs the authors' code indexes`,
        ),
      );
      continue;
    }
    // gt is read from qid parity and images by qid: a pair is qid n (odd) then n + 1 in every published
    // file. Anything else means a row was dropped or duplicated above (every later pair is shifted).
    if (p1.qid % 2 !== 1 || p2.qid !== p1.qid + 1) {
      fail(
        `${rowReason(annotationFile, r1, 'qid', `rows ${r1.row} and ${r2.row} have qids ${p1.qid} and ${p2.qid}, not n (odd) and n + 1: misaligned pair (a row dropped or duplicated above shifts every later pair)`)}`,
      );
      continue;
    }
    // Both images come from the first row's type folder, as in the authors' code.
    const check = options.checkImages !== false;
    const img1 = await findImage(dataDir, layout, p1.type, p1.qid, check);
    const img2 = await findImage(dataDir, layout, p1.type, p2.qid, check);
    if (img1.path === undefined || img2.path === undefined) {
      const reasons: string[] = [];
      if (img1.path === undefined)
        reasons.push(rowReason(annotationFile, r1, layout === 'mmvp-vlm' ? 'Type/qid (image)' : 'qid (image)', img1.reason ?? 'missing'));
      if (img2.path === undefined)
        reasons.push(rowReason(annotationFile, r2, layout === 'mmvp-vlm' ? 'Type/qid (image)' : 'qid (image)', img2.reason ?? 'missing'));
      fail(reasons.join('; '));
      continue;
    }
    const gt1 = Math.abs(p1.qid) % 2 === 1 ? 0 : 1; // Python: qid % 2 == 1 (also true for negative odd qids)
    const gt2 = Math.abs(p2.qid) % 2 === 1 ? 0 : 1;
    items.push(
      ItemSchema.parse({
        id: `${subset}/${pair}`,
        benchmark: layout,
        subset,
        images: [img1.path, img2.path],
        options: [T2I_TEXT_PREFIX + p1.statement, T2I_TEXT_PREFIX + p2.statement],
        correct: gt1,
        // What the metrics read is in groups (they survive samples.jsonl; meta does not).
        groups: { pair: String(pair), category, layout, gt: `${gt1},${gt2}` },
        source,
        meta: {
          layout,
          rows: [r1.row, r2.row],
          qids: [p1.qid, p2.qid],
          types: [p1.type, p2.type],
          statements: [p1.statement, p2.statement],
          gt: [gt1, gt2],
          // VLM2Vec/eval_llava15.py eval_MMVP: `prompt = questions[int(qid1)-1]`, for both images of the pair.
          ...(questions?.[p1.qid - 1] === undefined
            ? { question_missing: questionMissing ?? `questions file has no row ${p1.qid - 1} (questions[qid1-1])` }
            : { question: questions[p1.qid - 1], vlm2vec_question: questions[p1.qid - 1] }),
        },
      }),
    );
  }
  return { items, failures, companions };
}
