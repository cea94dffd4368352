/**
 * ARO COCO-Order and Flickr30k-Order loaders.
 *
 * Ported (not copied) from `mertyg/vision-language-models-are-bows@81fdd20dc5b6f434aa5a4a971717bc80d1cedb0d:dataset_zoo/aro_datasets.py`,
 * classes `COCO_Order` and `Flickr30k_Order` (`__init__`, `__getitem__`):
 *
 * - The Karpathy test split files (`coco_karpathy_test.json`, `flickr30k_test.json`, as BLIP published them):
 *   a JSON list of `{image, caption: [captions…]}` with `image` relative to the root
 *   (`val2014/COCO_val2014_….jpg`, `flickr30k-images/….jpg`).
 * - One test case per (image, caption), in file order: `caption_options = [pre_caption(caption, 30)]`
 *   followed by `pre_caption(perturb(caption), 30)` for shuffle_nouns_and_adj,
 *   shuffle_allbut_nouns_and_adj, shuffle_within_trigrams, shuffle_trigrams. The FIRST option is correct.
 * - A pre-built options file is accepted instead: a JSON list of `{image, caption_options: [correct, …]}`
 *   (the authors' `test_cases`), used as is (no pre_caption, no perturbation).
 *
 * An item's `source.row` and id are the 0-based test-case index (`<subset>/<k>`, counting every caption of
 * every image), the index of the authors' dataset; `meta.annotation_row` is the row of the JSON file.
 * A failure's `source.row` is a test-case index too (a row that fails validation keeps the indices of
 * its captions when `caption` is a list, else one); its reason names the JSON row and the field.
 */
import { z } from 'zod';
import { ItemSchema, type Item } from '../../core/item.js';
import { ORDER_PERTURBATIONS, PERTURB } from './perturbations.js';
import { preCaption } from './pre-caption.js';
import { streamFor } from './seeded-shuffle.js';
import { describeZodIssues, readJsonList, resolveAroImage, type AroLoadFailure } from './vg-loader.js';

/** main_aro.py's default `--seed`. */
export const ARO_DEFAULT_SEED = 1;
/** `max_words` of COCO_Order / Flickr30k_Order. */
export const ORDER_MAX_WORDS = 30;

const KarpathyRowSchema = z.object({
  image: z.string().min(1),
  caption: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
});
const PrebuiltRowSchema = z.object({
  image: z.string().min(1),
  caption_options: z.array(z.string()).min(2),
});

/** The authors' caption options for one caption: the original and its four perturbations. */
export function orderCaptionOptions(caption: string, seed: number, index: number): string[] {
  const rng = streamFor(seed, index);
  return [preCaption(caption, ORDER_MAX_WORDS), ...ORDER_PERTURBATIONS.map((p) => preCaption(PERTURB[p](caption, rng), ORDER_MAX_WORDS))];
}

export async function loadOrder(
  annotationFile: string,
  options: { dataDir: string; subset?: string; limit?: number; seed?: number; checkImages?: boolean },
): Promise<{ items: Item[]; failures: AroLoadFailure[]; prebuilt: boolean }> {
  const rows = await readJsonList(annotationFile, 'Order annotation file');
  const subset = options.subset ?? 'coco_order';
  const seed = options.seed ?? ARO_DEFAULT_SEED;
  const prebuilt = rows.some((r) => typeof r === 'object' && r !== null && 'caption_options' in r);
  const items: Item[] = [];
  const failures: AroLoadFailure[] = [];
  let k = 0; // test-case index
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  for (let row = 0; row < rows.length && k < limit; row++) {
    const parsed = (prebuilt ? PrebuiltRowSchema : KarpathyRowSchema).safeParse(rows[row]);
    if (!parsed.success) {
      // The row keeps the test-case indices it would have had (its caption list's length when that is
      // a list, else 1), so later ids stay the authors' and the failure's id never collides with an item's.
      const raw = rows[row] as { caption?: unknown } | null;
      const reserve = !prebuilt && Array.isArray(raw?.caption) && raw.caption.length > 0 ? raw.caption.length : 1;
      failures.push({ source: { file: annotationFile, row: k }, reason: `${annotationFile} row ${row} (test case ${k}): ${describeZodIssues(parsed.error)}` });
      k += reserve;
      continue;
    }
    const image = await resolveAroImage(options.dataDir, parsed.data.image, [''], options.checkImages !== false);
    const captionSets: string[][] = [];
    if ('caption_options' in parsed.data) {
      captionSets.push(parsed.data.caption_options);
    } else {
      const captions = typeof parsed.data.caption === 'string' ? [parsed.data.caption] : parsed.data.caption;
      for (let c = 0; c < captions.length && k + captionSets.length < limit; c++) {
        captionSets.push(orderCaptionOptions(captions[c] as string, seed, k + captionSets.length));
      }
    }
    for (let c = 0; c < captionSets.length; c++, k++) {
      if (typeof image !== 'string') {
        failures.push({ source: { file: annotationFile, row: k }, reason: `${annotationFile} row ${row} (test case ${k}): field image: ${image.reason}` });
        continue;
      }
      items.push(
        ItemSchema.parse({
          id: `${subset}/${k}`,
          benchmark: 'aro.order',
          subset,
          images: [image],
          options: captionSets[c],
          correct: 0,
          groups: { image_row: String(row) },
          source: { file: annotationFile, row: k },
          meta: { annotation_row: row, caption_index: c, seed: prebuilt ? null : seed, prebuilt },
        }),
      );
    }
  }
  return { items, failures, prebuilt };
}
