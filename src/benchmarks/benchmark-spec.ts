import { z } from 'zod';
import { OptionOrderSchema } from '../core/option-order.js';

/**
 * A benchmark entry of the experiment config, as the families read it. The config narrows
 * `format` to the registered families (src/config/experiment.ts builds that from the registry).
 */

const Name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'letters, digits, ".", "_" and "-" only');

export const BenchmarkSpecSchema = z.strictObject({
  /** Name used in ids and the report, e.g. `whatsup.controlled_a`. */
  name: Name,
  /** Which loader reads the files (one benchmark family per format; the config admits the formats of src/benchmarks/registry.ts). */
  format: z.string().min(1),
  /** The authors' annotation file (e.g. controlled_images_dataset.json). */
  annotations: z.string().min(1),
  /** Folder the annotation's image paths are resolved against; no image path may leave it. */
  data_dir: z.string().min(1),
  /** Subset name passed to the loader (controlled_a, controlled_b, coco_qa_one, replace_rel, …). */
  subset: z.string().min(1),
  /**
   * Which evaluation code scores it (e.g. whatsup_vlms, clip_embeds_2way, clip_embeds_4way);
   * default: the family's first convention. Checked against the family when it loads.
   */
  convention: z.string().min(1).optional(),
  /** Further files a family reads, by role (e.g. hard positives: `swapped`); paths like `annotations`. */
  extra_files: z.record(z.string(), z.string().min(1)).default({}),
  /** Word-order test: add the correct caption with its words shuffled (seeded) as a further option. */
  word_order: z.boolean().default(false),
  /** Seed of whatever a loader draws (word-order shuffles, the VLM2Vec question's random flip). */
  seed: z.number().int().nonnegative().default(0),
  /**
   * How letter-scored arms present this benchmark's options unless the arm sets `option_order`:
   * `fixed`, `shuffled` (seeded by `seed` and the item id) or `circular`; default: the family's
   * (`fixed` for MMVP, `circular` elsewhere).
   */
  option_order: OptionOrderSchema.optional(),
  /**
   * Which arms (their ids: `label`, else the arm name) run on this benchmark; default every arm of
   * the config. E.g. a generative arm on a small set beside a contrastive arm on the whole suite.
   */
  arms: z.array(z.string().min(1)).min(1).optional(),
  /** Take only the first N items (quick checks). */
  limit: z.number().int().positive().optional(),
});

export type BenchmarkSpec = z.output<typeof BenchmarkSpecSchema>;
