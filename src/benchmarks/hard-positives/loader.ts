/**
 * Hard positives (Kamath, Hsieh, Chang, Krishna, ECCV 2024) REPLACE benchmark loader, ported (not
 * copied) from `amitakamath/hard_positives@33addaae84b58d96dc8e9251b61d497c536ed23d`:
 * `dataset_zoo/aro_datasets.py` classes `VL_Checklist_Relation` / `VL_Checklist_Attribute`
 * (`__init__`, `__getitem__`) and `run_eval.py` `main`:
 *
 * - `data/vl_checklist_{relations,attributes}.json` hold (original caption c, hard negative c_n) and
 *   `swapped_data/<same name>` (hard positive c_p, the same hard negative) for the same rows: JSON
 *   lists of `{image_id, true_caption, false_caption, image_path}`; `__getitem__` presents
 *   `caption_options = [false_caption, true_caption]` and opens `image_path`
 *   (`data/VG_100K/3968.jpg`) relative to the repository root (run_eval.py's working directory).
 * - run_eval.py scores the two files separately and pairs them by row index.
 *
 * One item per row: `options = [c_n, c, c_p]` (the authors' order of the data/ row, then the
 * swapped row's true caption), `correct = 1`. The swapped row must have the same image_path, image_id and
 * false_caption as the data/ row (true of every row of the published files; their true captions differ:
 * c vs c_p), else the row fails naming the field as misaligned. `quirks` counts rows whose caption equals
 * its negative and exact duplicate rows (the published files have both; run_eval.py scores them as they are).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { PerceiveError, errorMessage } from '../../core/errors.js';
import { ItemSchema, type Item } from '../../core/item.js';
import type { LoadFailure } from '../benchmark-family.js';
import { duplicateRows, quirk, type DataQuirk } from '../shared/data-quirk.js';
import { isReadableFile, joinInsideDataDir, unsafeDataPathReason } from '../../core/data-path.js';
import { pairRowsByIndex } from './paired-rows.js';

export const HardPositiveRowSchema = z.object({
  image_id: z.union([z.string().min(1), z.number().int().nonnegative()]),
  true_caption: z.string().min(1),
  false_caption: z.string().min(1),
  image_path: z.string().min(1),
});

/** `<root>/data/<name>` → `<root>/swapped_data/<name>`. */
export function defaultSwappedFile(annotationFile: string): string {
  return path.join(path.dirname(path.dirname(annotationFile)), 'swapped_data', path.basename(annotationFile));
}

async function readList(file: string): Promise<unknown[]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new PerceiveError('hard-positives-unreadable', `Cannot read hard-positives file ${file}: ${errorMessage(error)}`, {
      hint: 'Expected data/vl_checklist_relations.json (or _attributes) and swapped_data/<same name> from amitakamath/hard_positives.',
      cause: error,
    });
  }
  if (!Array.isArray(parsed)) {
    throw new PerceiveError('hard-positives-invalid', `hard-positives file ${file} must be a JSON list of {image_id, true_caption, false_caption, image_path}`);
  }
  return parsed;
}

/** The image path inside the data dir: `dataDir/image_path`, else without a leading `data/`. */
export async function resolveHardPositiveImage(imagePath: string, dataDir: string, checkImages: boolean): Promise<string | { reason: string }> {
  const unsafe = unsafeDataPathReason(imagePath);
  if (unsafe !== undefined) return { reason: unsafe };
  const candidates = [imagePath];
  if (imagePath.startsWith('data/')) candidates.push(imagePath.slice('data/'.length));
  const tried: string[] = [];
  for (const c of candidates) {
    const full = joinInsideDataDir(dataDir, c);
    if (typeof full !== 'string') return full;
    if (!checkImages) return full;
    tried.push(full);
    if (await isReadableFile(full)) return full;
  }
  return { reason: `image file ${JSON.stringify(imagePath)} not found or unreadable (tried ${tried.join(', ')})` };
}

export interface HardPositivesLoadOptions {
  dataDir: string;
  subset: string;
  swappedFile?: string;
  limit?: number;
  checkImages?: boolean;
}

export async function loadHardPositives(
  annotationFile: string,
  options: HardPositivesLoadOptions,
): Promise<{ items: Item[]; failures: LoadFailure[]; quirks: DataQuirk[] }> {
  const swappedFile = options.swappedFile ?? defaultSwappedFile(annotationFile);
  const original = await readList(annotationFile);
  const swapped = await readList(swappedFile);
  const paired = pairRowsByIndex(HardPositiveRowSchema, { annotationFile, swappedFile }, original, swapped, options.limit);
  const items: Item[] = [];
  const failures: LoadFailure[] = [...paired.failures];
  for (const { row, a, b } of paired.pairs) {
    const source = { file: annotationFile, row };
    const fail = (reason: string): void => {
      failures.push({ source, reason });
    };
    if (b.false_caption !== a.false_caption) {
      fail(
        `${swappedFile} row ${row}: field false_caption ${JSON.stringify(b.false_caption)} differs from ${annotationFile} row ${row} (${JSON.stringify(a.false_caption)}): rows misaligned (a row dropped or duplicated shifts every later pair)`,
      );
      continue;
    }
    if (b.image_path !== a.image_path) {
      fail(
        `${swappedFile} row ${row}: field image_path ${JSON.stringify(b.image_path)} differs from ${annotationFile} row ${row} (${JSON.stringify(a.image_path)}): rows misaligned (a row dropped or duplicated shifts every later pair)`,
      );
      continue;
    }
    if (String(b.image_id) !== String(a.image_id)) {
      fail(
        `${swappedFile} row ${row}: field image_id ${JSON.stringify(b.image_id)} differs from ${annotationFile} row ${row} (${JSON.stringify(a.image_id)}): rows misaligned (a row dropped or duplicated shifts every later pair)`,
      );
      continue;
    }
    const image = await resolveHardPositiveImage(a.image_path, options.dataDir, options.checkImages !== false);
    if (typeof image !== 'string') {
      fail(`${annotationFile} row ${row}: field image_path: ${image.reason}`);
      continue;
    }
    items.push(
      ItemSchema.parse({
        id: `hard_positives.${options.subset}/${row}`,
        benchmark: 'hard_positives',
        subset: options.subset,
        images: [image],
        options: [a.false_caption, a.true_caption, b.true_caption],
        correct: 1,
        groups: {},
        source,
        meta: { imageId: String(a.image_id), imagePath: a.image_path, swappedFile },
      }),
    );
  }
  // Row order, as the rows were read (the extra-swapped-rows entry, at row N, last).
  failures.sort((x, y) => x.source.row - y.source.row);
  return { items, failures, quirks: hardPositiveQuirks({ annotationFile, swappedFile }, original, swapped) };
}

/** Counts of what the published files have (scored as they are by run_eval.py): see data-quirk.ts. */
export function hardPositiveQuirks(files: { annotationFile: string; swappedFile: string }, original: unknown[], swapped: unknown[]): DataQuirk[] {
  const sameCaption = (rows: unknown[]): number[] =>
    rows.flatMap((r, i) => {
      const p = HardPositiveRowSchema.safeParse(r);
      return p.success && p.data.true_caption === p.data.false_caption ? [i] : [];
    });
  const n = Math.min(original.length, swapped.length);
  const pairs = Array.from({ length: n }, (_, i) => [original[i], swapped[i]]);
  return [
    quirk(files.annotationFile, 'true_caption equals false_caption (the caption is its own hard negative: a tie)', sameCaption(original)),
    quirk(files.swappedFile, 'true_caption equals false_caption (the hard positive is the hard negative: a tie)', sameCaption(swapped)),
    quirk(files.annotationFile, 'exact duplicate of an earlier row', duplicateRows(original)),
    quirk(files.swappedFile, 'exact duplicate of an earlier row', duplicateRows(swapped)),
    quirk(
      `${files.annotationFile} + ${files.swappedFile}`,
      'row pair (data/ row and its swapped_data/ row) exactly duplicating an earlier pair',
      duplicateRows(pairs),
    ),
  ];
}
