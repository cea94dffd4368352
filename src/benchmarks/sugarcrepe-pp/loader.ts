/**
 * SugarCrepe++ (Dumpala et al., 2024, arXiv 2406.11171) loader, ported (not copied) from
 * `Sri-Harsha/scpp@c083bbf039a5ca215acaf25e7ee736d2ea6f3864`: `VLMs/data_organize_internal_data.py`
 * (`ImageTextClassificationDataset_sc_mod2`) and `VLMs/test_Variants_CLIP.py`:
 *
 * - `data/<subset>.json` (`replace_att`, `replace_obj`, `replace_rel`, `swap_att`, `swap_obj`) is a JSON
 *   list of `{id, filename, caption, caption2, negative_caption}` (also the columns of the Hugging Face
 *   copy `Aman-J/SugarCrepe_pp`, per the repository's `croissant_metadata.json`); P1 = `caption`, P2 =
 *   `caption2`, negative = `negative_caption`; the image is `os.path.join(img_path, filename)`, the COCO
 *   val2017 images (`VLMs/download_coco_images.sh` puts them flat in `images/`).
 *
 * One item per row: `options = [P1, P2, negative]`, `correct = 0` (either positive is a right answer;
 * the metric reads all three), `groups.subset`, `groups.row_id` = the row's `id`.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { PerceiveError, errorMessage } from '../../core/errors.js';
import { ItemSchema, type Item } from '../../core/item.js';
import type { LoadFailure } from '../benchmark-family.js';
import { isReadableFile, joinInsideDataDir } from '../../core/data-path.js';
import { describeZodIssues } from '../zod-row-issues.js';

export const SUGARCREPE_PP_SUBSETS = ['replace_att', 'replace_obj', 'replace_rel', 'swap_att', 'swap_obj'] as const;

export const SugarCrepePpRowSchema = z.object({
  id: z.number().int().nonnegative(),
  filename: z.string().min(1),
  caption: z.string().min(1),
  caption2: z.string().min(1),
  negative_caption: z.string().min(1),
});

export interface SugarCrepePpLoadOptions {
  dataDir: string;
  subset: string;
  limit?: number;
  checkImages?: boolean;
}

export async function loadSugarCrepePp(annotationFile: string, options: SugarCrepePpLoadOptions): Promise<{ items: Item[]; failures: LoadFailure[] }> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(annotationFile, 'utf8'));
  } catch (error) {
    throw new PerceiveError('sugarcrepe-pp-unreadable', `Cannot read SugarCrepe++ file ${annotationFile}: ${errorMessage(error)}`, {
      hint: `Expected data/<subset>.json from Sri-Harsha/scpp (${SUGARCREPE_PP_SUBSETS.join(', ')}).`,
      cause: error,
    });
  }
  if (!Array.isArray(parsed)) {
    throw new PerceiveError(
      'sugarcrepe-pp-invalid',
      `SugarCrepe++ file ${annotationFile} must be a JSON list of {id, filename, caption, caption2, negative_caption}`,
    );
  }
  const rows = parsed.slice(0, options.limit ?? parsed.length);
  const items: Item[] = [];
  const failures: LoadFailure[] = [];
  for (let row = 0; row < rows.length; row++) {
    const source = { file: annotationFile, row };
    const where = `${annotationFile} row ${row}`;
    const r = SugarCrepePpRowSchema.safeParse(rows[row]);
    if (!r.success) {
      failures.push({ source, reason: `${where}: ${describeZodIssues(r.error)}` });
      continue;
    }
    const image = joinInsideDataDir(options.dataDir, r.data.filename);
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
        id: `sugarcrepe_pp.${options.subset}/${row}`,
        benchmark: 'sugarcrepe_pp',
        subset: options.subset,
        images: [image],
        options: [r.data.caption, r.data.caption2, r.data.negative_caption],
        correct: 0,
        groups: { subset: options.subset, row_id: String(r.data.id) },
        source,
        meta: { row_id: r.data.id, filename: r.data.filename },
      }),
    );
  }
  return { items, failures };
}
