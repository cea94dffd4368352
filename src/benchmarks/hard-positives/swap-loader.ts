/**
 * Hard positives SWAP loader, ported (not copied) from
 * `amitakamath/hard_positives@33addaae84b58d96dc8e9251b61d497c536ed23d`: `run_eval.py` `main`
 * (`dataset_name == 'swap'`) and `dataset_zoo/aro_datasets.py` class `VG_Attribution`
 * (`__init__`, `__getitem__`):
 *
 * - run_eval.py builds `VG_Attribution(root_dir="data")` (c, c_n) and
 *   `VG_Attribution(root_dir="swapped_data")` (c_p, c_n'), each reading
 *   `<root>/visual_genome_attribution.json` (ARO's VG-Attribution format: `image_path` relative to
 *   `<root>/images/`, `bbox_x, bbox_y, bbox_w, bbox_h`, `true_caption`, `false_caption`,
 *   `attributes`), scores both with `shuffle=False` and pairs them by row index.
 * - `__getitem__` crops the image to `(x, y, x + w, y + h)` (PIL `Image.crop`) and presents
 *   `caption_options = [false_caption, true_caption]`.
 *
 * One item per row, on the data/ row's image and crop (`meta.crop = {x, y, w, h}`):
 * options `[c_n, c, c_p]` when the swapped row's false_caption is the data/ row's, else
 * `[c_n, c, c_n', c_p]` (run_eval.py compares against the swapped file's own negative score
 * `mod_scores[i][0][0]`; the metrics read 4-column rows that way); `correct = 1`.
 * A swapped row with a different image_path or box would be scored by run_eval.py on another
 * image, which one item cannot hold: that row fails naming the field. Rows lacking `attributes`
 * (VG_Attribution.__init__ reads `attributes[0]`, `attributes[1]`) or a box fail too.
 */
import { type Item, ItemSchema } from '../../core/item.js';
import type { LoadFailure } from '../benchmark-family.js';
import { VgAttributionRowSchema, readJsonList, resolveAroImage } from '../aro/vg-loader.js';
import { pairRowsByIndex } from './paired-rows.js';
import { defaultSwappedFile } from './loader.js';

export interface HardPositivesSwapLoadOptions {
  dataDir: string;
  subset: string;
  swappedFile?: string;
  limit?: number;
  checkImages?: boolean;
}

/** Where the authors' layout keeps the images, relative to the data dir (`data/images/<image_path>`), then ARO's. */
const IMAGE_PREFIXES = ['data/images', 'images', ''] as const;

export async function loadHardPositivesSwap(
  annotationFile: string,
  options: HardPositivesSwapLoadOptions,
): Promise<{ items: Item[]; failures: LoadFailure[] }> {
  const swappedFile = options.swappedFile ?? defaultSwappedFile(annotationFile);
  const original = await readJsonList(annotationFile, 'hard-positives SWAP file');
  const swapped = await readJsonList(swappedFile, 'hard-positives SWAP file');
  const paired = pairRowsByIndex(VgAttributionRowSchema, { annotationFile, swappedFile }, original, swapped, options.limit);
  const items: Item[] = [];
  const failures: LoadFailure[] = [...paired.failures];
  for (const { row, a, b } of paired.pairs) {
    const source = { file: annotationFile, row };
    const fail = (reason: string): void => {
      failures.push({ source, reason });
    };
    const differs = (['image_path', 'bbox_x', 'bbox_y', 'bbox_w', 'bbox_h'] as const).find((k) => a[k] !== b[k]);
    if (differs !== undefined) {
      fail(
        `${swappedFile} row ${row}: field ${differs} ${JSON.stringify(b[differs])} differs from ${annotationFile} row ${row} (${JSON.stringify(a[differs])}); one item holds one image and crop`,
      );
      continue;
    }
    if (!(a.bbox_w > 0 && a.bbox_h > 0)) {
      fail(`${annotationFile} row ${row}: field bbox_w/bbox_h: empty crop box (${a.bbox_w} x ${a.bbox_h})`);
      continue;
    }
    const image = await resolveAroImage(options.dataDir, a.image_path, IMAGE_PREFIXES, options.checkImages !== false);
    if (typeof image !== 'string') {
      fail(`${annotationFile} row ${row}: field image_path: ${image.reason}`);
      continue;
    }
    const sameNegative = b.false_caption === a.false_caption;
    const captionOptions = sameNegative
      ? [a.false_caption, a.true_caption, b.true_caption]
      : [a.false_caption, a.true_caption, b.false_caption, b.true_caption];
    items.push(
      ItemSchema.parse({
        id: `hard_positives.${options.subset}/${row}`,
        benchmark: 'hard_positives',
        subset: options.subset,
        images: [image],
        options: captionOptions,
        correct: 1,
        groups: { attributes: `${a.attributes[0]}_${a.attributes[1]}` },
        source,
        meta: {
          imagePath: a.image_path,
          crop: { x: a.bbox_x, y: a.bbox_y, w: a.bbox_w, h: a.bbox_h },
          swappedFile,
        },
      }),
    );
  }
  // Row order, as the rows were read (the extra-swapped-rows entry, at row N, last).
  failures.sort((x, y) => x.source.row - y.source.row);
  return { items, failures };
}
