/**
 * SugarCrepe (Hsieh et al., NeurIPS 2023 Datasets and Benchmarks) loader, ported (not copied) from
 * `RAIVNLab/sugar-crepe@0047054b243992f0fad63d6f64f7544862daf846:main_eval.py` (`__main__`, `evaluate`):
 *
 * - `data/<subset>.json` is one JSON object `{id: {filename, caption, negative_caption}}`;
 *   `evaluate` walks `data_dict.items()` in file order and opens `os.path.join(coco_image_root, filename)`
 *   (COCO val2017, e.g. `000000397133.jpg`).
 * - `main_eval.py` reads `add_obj`, `add_att`, `replace_obj`, `replace_att`, `replace_rel`, `swap_obj`,
 *   `swap_att`. The repository's first data commit (42b927f) named three of them `add_ent.json`,
 *   `replace_ent.json`, `swap_ent.json` (renamed, and filtered, in 6e45274). Both spellings are
 *   accepted: the file named in the config is read when present, else the other spelling beside it;
 *   every item says which file was read (`source.file`, `groups.file`).
 *
 * One item per row: `options = [caption, negative_caption]` (the order `text_retrieval` gets them),
 * `correct = 0`, `groups.subset` / `groups.category` (replace, swap, add), `groups.key` = the JSON key.
 * Subset `all` reads the seven files of one folder as one benchmark (for the paper's per-category
 * means); its rows are numbered on across the files in main_eval.py's order.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { PerceiveError, errorMessage } from '../../core/errors.js';
import { ItemSchema, type Item } from '../../core/item.js';
import type { LoadFailure } from '../benchmark-family.js';
import { isReadableFile, joinInsideDataDir } from '../../core/data-path.js';
import { describeZodIssues } from '../zod-row-issues.js';

/** main_eval.py's `data_dict`, in its order. */
export const SUGARCREPE_SUBSETS = ['add_obj', 'add_att', 'replace_obj', 'replace_att', 'replace_rel', 'swap_obj', 'swap_att'] as const;
export type SugarCrepeSubset = (typeof SUGARCREPE_SUBSETS)[number];

/** The earlier file names (commit 42b927f) of the three object subsets. */
export const SUGARCREPE_LEGACY_NAMES: Partial<Record<SugarCrepeSubset, string>> = {
  add_obj: 'add_ent',
  replace_obj: 'replace_ent',
  swap_obj: 'swap_ent',
};

export const SUGARCREPE_CATEGORIES = ['replace', 'swap', 'add'] as const;

export function sugarCrepeCategory(subset: string): string {
  return subset.slice(0, subset.indexOf('_'));
}

export function isSugarCrepeSubset(name: string): name is SugarCrepeSubset {
  return (SUGARCREPE_SUBSETS as readonly string[]).includes(name);
}

/** The subset a file name stands for, in either spelling (`add_ent.json` → `add_obj`). */
export function subsetOfFileName(file: string): SugarCrepeSubset | undefined {
  const base = path.basename(file, '.json');
  if (isSugarCrepeSubset(base)) return base;
  const legacy = Object.entries(SUGARCREPE_LEGACY_NAMES).find(([, old]) => old === base);
  return legacy === undefined ? undefined : (legacy[0] as SugarCrepeSubset);
}

export const SugarCrepeRowSchema = z.object({
  filename: z.string().min(1),
  caption: z.string().min(1),
  negative_caption: z.string().min(1),
});

export interface SugarCrepeLoadOptions {
  dataDir: string;
  /** A subset name, or `all`. */
  subset: string;
  /** For `all`: files by subset name (default: `<subset>.json` beside the annotation file, either spelling). */
  files?: Record<string, string>;
  limit?: number;
  checkImages?: boolean;
}

/**
 * The file to read for `subset`: `wanted` when it is readable, else the other spelling in the same
 * folder, else `wanted` (whose read then fails naming it).
 */
export async function resolveSugarCrepeFile(wanted: string, subset: SugarCrepeSubset): Promise<string> {
  if (await isReadableFile(wanted)) return wanted;
  const dir = path.dirname(wanted);
  const names = [subset, SUGARCREPE_LEGACY_NAMES[subset]].filter((n): n is string => n !== undefined);
  for (const name of names) {
    const candidate = path.join(dir, `${name}.json`);
    if (candidate !== wanted && (await isReadableFile(candidate))) return candidate;
  }
  return wanted;
}

async function readDict(file: string): Promise<Record<string, unknown>> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new PerceiveError('sugarcrepe-unreadable', `Cannot read SugarCrepe file ${file}: ${errorMessage(error)}`, {
      hint: 'Expected data/<subset>.json from RAIVNLab/sugar-crepe (add_obj or add_ent, add_att, replace_obj or replace_ent, replace_att, replace_rel, swap_obj or swap_ent, swap_att).',
      cause: error,
    });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new PerceiveError('sugarcrepe-invalid', `SugarCrepe file ${file} must be one JSON object {id: {filename, caption, negative_caption}}`);
  }
  return parsed as Record<string, unknown>;
}

async function loadOneFile(
  file: string,
  subset: SugarCrepeSubset,
  firstRow: number,
  options: SugarCrepeLoadOptions,
  limit: number,
): Promise<{ items: Item[]; failures: LoadFailure[]; rows: number }> {
  const dict = await readDict(file);
  const items: Item[] = [];
  const failures: LoadFailure[] = [];
  const entries = Object.entries(dict).slice(0, limit);
  const spelling = path.basename(file, '.json');
  for (let i = 0; i < entries.length; i++) {
    const [key, raw] = entries[i] as [string, unknown];
    const row = firstRow + i;
    const source = { file, row };
    const where = `${file} row ${i} (id ${JSON.stringify(key)})`;
    const parsed = SugarCrepeRowSchema.safeParse(raw);
    if (!parsed.success) {
      failures.push({ source, reason: `${where}: ${describeZodIssues(parsed.error)}` });
      continue;
    }
    const r = parsed.data;
    const image = joinInsideDataDir(options.dataDir, r.filename);
    if (typeof image !== 'string') {
      failures.push({ source, reason: `${where}: field filename: ${image.reason}` });
      continue;
    }
    if (options.checkImages !== false && !(await isReadableFile(image))) {
      failures.push({ source, reason: `${where}: field filename: image ${image} not found or unreadable` });
      continue;
    }
    items.push(
      ItemSchema.parse({
        id: `sugarcrepe.${options.subset}/${row}`,
        benchmark: 'sugarcrepe',
        subset: options.subset,
        images: [image],
        options: [r.caption, r.negative_caption],
        correct: 0,
        groups: { subset, category: sugarCrepeCategory(subset), key, file: spelling },
        source,
        meta: { key, filename: r.filename, file },
      }),
    );
  }
  return { items, failures, rows: entries.length };
}

/** Items of one subset (or `all` seven), with the rows that failed. */
export async function loadSugarCrepe(
  annotationFile: string,
  options: SugarCrepeLoadOptions,
): Promise<{ items: Item[]; failures: LoadFailure[]; filesRead: Record<string, string> }> {
  const subsets: SugarCrepeSubset[] = [];
  if (options.subset === 'all') subsets.push(...SUGARCREPE_SUBSETS);
  else if (isSugarCrepeSubset(options.subset)) subsets.push(options.subset);
  else {
    throw new PerceiveError('sugarcrepe-bad-subset', `SugarCrepe has no subset ${JSON.stringify(options.subset)}`, {
      hint: `use one of: ${[...SUGARCREPE_SUBSETS, 'all'].join(', ')}`,
    });
  }
  const items: Item[] = [];
  const failures: LoadFailure[] = [];
  const filesRead: Record<string, string> = {};
  let row = 0;
  let left = options.limit ?? Number.POSITIVE_INFINITY;
  for (const subset of subsets) {
    if (left <= 0) break;
    const wanted = options.subset === 'all' ? (options.files?.[subset] ?? path.join(path.dirname(annotationFile), `${subset}.json`)) : annotationFile;
    const file = await resolveSugarCrepeFile(wanted, subset);
    filesRead[subset] = file;
    const got = await loadOneFile(file, subset, row, options, left);
    items.push(...got.items);
    failures.push(...got.failures);
    row += got.rows;
    left -= got.rows;
  }
  return { items, failures, filesRead };
}
