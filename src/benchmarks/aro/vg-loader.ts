/**
 * ARO VG-Relation and VG-Attribution loaders.
 *
 * Ported (not copied) from `mertyg/vision-language-models-are-bows@81fdd20dc5b6f434aa5a4a971717bc80d1cedb0d:dataset_zoo/aro_datasets.py`,
 * classes `VG_Relation` and `VG_Attribution` (`__init__`, `__getitem__`):
 *
 * - `visual_genome_relation.json` / `visual_genome_attribution.json`: a JSON list of rows with
 *   `image_path` (relative to `<root>/images/`), `bbox_x, bbox_y, bbox_w, bbox_h`, `true_caption`,
 *   `false_caption`, and `relation_name` (VG-R) or `attributes` (VG-A; the class key is
 *   `f"{attributes[0]}_{attributes[1]}"`). Extra keys are ignored.
 * - `__getitem__` crops the image to the box `(x, y, x + w, y + h)` (PIL `Image.crop`; parts of the box
 *   outside the image come out black) and presents `caption_options = [false_caption, true_caption]`:
 *   the SECOND caption is correct (`item.correct = 1`).
 *
 * The crop is recorded in `item.meta.crop = {x, y, w, h}`; whoever loads the pixels applies it.
 * `data_dir` is the authors' root (ARO_ROOT, which holds `images/`); a folder that holds the images
 * directly works too.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { PerceiveError, errorMessage } from '../../core/errors.js';
import { ItemSchema, type Item } from '../../core/item.js';
import { isReadableFile, joinInsideDataDir } from '../../core/data-path.js';
import { describeZodIssues } from '../zod-row-issues.js';

export type VgKind = 'relation' | 'attribution';

export interface AroLoadFailure {
  source: { file: string; row: number };
  reason: string;
}

const Bbox = {
  bbox_x: z.number().finite(),
  bbox_y: z.number().finite(),
  bbox_w: z.number().finite().nonnegative(),
  bbox_h: z.number().finite().nonnegative(),
};

export const VgRelationRowSchema = z.object({
  image_path: z.string().min(1),
  ...Bbox,
  true_caption: z.string().min(1),
  false_caption: z.string().min(1),
  relation_name: z.string().min(1),
});

export const VgAttributionRowSchema = z.object({
  image_path: z.string().min(1),
  ...Bbox,
  true_caption: z.string().min(1),
  false_caption: z.string().min(1),
  attributes: z.array(z.string()).min(2),
});

export { describeZodIssues };

/** Reads a JSON list, or throws a PerceiveError naming the file. */
export async function readJsonList(file: string, what: string): Promise<unknown[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new PerceiveError('aro-annotation-unreadable', `Cannot read ${what} ${file}: ${errorMessage(error)}`, { cause: error });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new PerceiveError('aro-annotation-invalid', `${what} ${file} is not valid JSON: ${errorMessage(error)}`, { cause: error });
  }
  if (!Array.isArray(parsed))
    throw new PerceiveError('aro-annotation-invalid', `${what} ${file} must be a JSON list, got ${parsed === null ? 'null' : typeof parsed}`);
  return parsed;
}

/** `<dataDir>/images/<p>` (the authors' layout), else `<dataDir>/<p>`; a reason string when unsafe or missing. */
export async function resolveAroImage(
  dataDir: string,
  imagePath: string,
  prefixes: readonly string[],
  checkImages: boolean,
): Promise<string | { reason: string }> {
  const tried: string[] = [];
  for (const prefix of prefixes) {
    const p = joinInsideDataDir(dataDir, prefix === '' ? imagePath : `${prefix}/${imagePath}`);
    if (typeof p !== 'string') return { reason: `image path ${p.reason}` };
    if (!checkImages || (await isReadableFile(p))) return p;
    tried.push(p);
  }
  return { reason: `image file ${JSON.stringify(imagePath)} not found or unreadable (tried ${tried.join(', ')})` };
}

export async function loadVg(
  kind: VgKind,
  annotationFile: string,
  options: { dataDir: string; subset?: string; limit?: number; checkImages?: boolean },
): Promise<{ items: Item[]; failures: AroLoadFailure[] }> {
  const all = await readJsonList(annotationFile, kind === 'relation' ? 'VG-Relation annotation file' : 'VG-Attribution annotation file');
  const rows = options.limit === undefined ? all : all.slice(0, options.limit);
  const subset = options.subset ?? (kind === 'relation' ? 'vg_relation' : 'vg_attribution');
  const items: Item[] = [];
  const failures: AroLoadFailure[] = [];
  for (let row = 0; row < rows.length; row++) {
    const source = { file: annotationFile, row };
    const fail = (reason: string): void => {
      failures.push({ source, reason: `${annotationFile} row ${row}: ${reason}` });
    };
    const schema = kind === 'relation' ? VgRelationRowSchema : VgAttributionRowSchema;
    const parsed = schema.safeParse(rows[row]);
    if (!parsed.success) {
      fail(describeZodIssues(parsed.error));
      continue;
    }
    const r = parsed.data;
    const image = await resolveAroImage(options.dataDir, r.image_path, ['images', ''], options.checkImages !== false);
    if (typeof image !== 'string') {
      fail(`field image_path: ${image.reason}`);
      continue;
    }
    const group =
      kind === 'relation'
        ? { kind: 'relation', relation: (r as z.infer<typeof VgRelationRowSchema>).relation_name }
        : (() => {
            const a = (r as z.infer<typeof VgAttributionRowSchema>).attributes;
            return { kind: 'attribution', attributes: `${a[0]}_${a[1]}` };
          })();
    items.push(
      ItemSchema.parse({
        id: `${subset}/${row}`,
        benchmark: kind === 'relation' ? 'aro.vg_relation' : 'aro.vg_attribution',
        subset,
        images: [image],
        options: [r.false_caption, r.true_caption],
        correct: 1,
        groups: group,
        source,
        meta: { imagePath: r.image_path, crop: { x: r.bbox_x, y: r.bbox_y, w: r.bbox_w, h: r.bbox_h } },
      }),
    );
  }
  return { items, failures };
}
