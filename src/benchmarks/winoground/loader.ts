/**
 * Winoground (Thrush et al., CVPR 2022) loader for the files of the gated Hugging Face dataset
 * `facebook/winoground` (licence accepted by the user; perceive downloads nothing):
 *
 * - `data/examples.jsonl`: one JSON object per line, `{id, caption_0, caption_1, image_0, image_1, tag,
 *   secondary_tag, num_main_preds, collapsed_tag}`; `image_k` is a file stem (`ex_0_img_0`).
 * - `data/images/<image_k>.png` (the unpacked `images.zip`); `<image_k>.png` directly in the data dir
 *   is accepted too.
 *
 * One item per example, holding both images: `images = [image_0, image_1]`, `options = [caption_0,
 * caption_1]`, `correct = 0` and `meta.correct_per_image = [0, 1]` (caption k belongs to image k), so the
 * pair-aware arms see a two-image item (vlm.two-image asks about each image with both in the prompt;
 * clip records the image–image cosine). `groups` carries `tag`, `secondary_tag`, `collapsed_tag`,
 * `num_main_preds` and `winoground_id` (they survive samples.jsonl, for the per-tag figures).
 * `source.row` is the 0-based line among the non-empty lines.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { PerceiveError, errorMessage } from '../../core/errors.js';
import { ItemSchema, type Item } from '../../core/item.js';
import type { LoadFailure } from '../benchmark-family.js';
import { isReadableFile, joinInsideDataDir, unsafeDataPathReason } from '../../core/data-path.js';
import { describeZodIssues } from '../zod-row-issues.js';

export const WinogroundRowSchema = z.object({
  id: z.number().int().nonnegative(),
  caption_0: z.string().min(1),
  caption_1: z.string().min(1),
  image_0: z.string().min(1),
  image_1: z.string().min(1),
  tag: z.string(),
  secondary_tag: z.string(),
  num_main_preds: z.number().int().nonnegative(),
  collapsed_tag: z.string(),
});

export interface WinogroundLoadOptions {
  dataDir: string;
  subset: string;
  limit?: number;
  checkImages?: boolean;
}

async function findImage(dataDir: string, stem: string, checkImages: boolean): Promise<string | { reason: string }> {
  const unsafe = unsafeDataPathReason(stem);
  if (unsafe !== undefined) return { reason: unsafe };
  const tried: string[] = [];
  for (const rel of [`images/${stem}.png`, `${stem}.png`]) {
    const full = joinInsideDataDir(dataDir, rel);
    if (typeof full !== 'string') return full;
    if (!checkImages) return full;
    tried.push(full);
    if (await isReadableFile(full)) return full;
  }
  return { reason: `image ${JSON.stringify(stem)} not found or unreadable (tried ${tried.join(', ')})` };
}

export async function loadWinoground(annotationFile: string, options: WinogroundLoadOptions): Promise<{ items: Item[]; failures: LoadFailure[] }> {
  let text: string;
  try {
    text = await readFile(annotationFile, 'utf8');
  } catch (error) {
    throw new PerceiveError('winoground-unreadable', `Cannot read Winoground file ${annotationFile}: ${errorMessage(error)}`, {
      hint: 'Expected data/examples.jsonl of the Hugging Face dataset facebook/winoground (gated: accept its licence, download it yourself).',
      cause: error,
    });
  }
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const limit = options.limit ?? lines.length;
  const items: Item[] = [];
  const failures: LoadFailure[] = [];
  const check = options.checkImages !== false;
  for (let row = 0; row < Math.min(limit, lines.length); row++) {
    const source = { file: annotationFile, row };
    const where = `${annotationFile} row ${row}`;
    let raw: unknown;
    try {
      raw = JSON.parse(lines[row] as string);
    } catch (error) {
      failures.push({ source, reason: `${where}: field (row): not JSON: ${errorMessage(error)}` });
      continue;
    }
    const parsed = WinogroundRowSchema.safeParse(raw);
    if (!parsed.success) {
      failures.push({ source, reason: `${where}: ${describeZodIssues(parsed.error)}` });
      continue;
    }
    const r = parsed.data;
    const i0 = await findImage(options.dataDir, r.image_0, check);
    const i1 = await findImage(options.dataDir, r.image_1, check);
    if (typeof i0 !== 'string' || typeof i1 !== 'string') {
      const reasons: string[] = [];
      if (typeof i0 !== 'string') reasons.push(`field image_0: ${i0.reason}`);
      if (typeof i1 !== 'string') reasons.push(`field image_1: ${i1.reason}`);
      failures.push({ source, reason: `${where}: ${reasons.join('; ')}` });
      continue;
    }
    items.push(
      ItemSchema.parse({
        id: `winoground.${options.subset}/${row}`,
        benchmark: 'winoground',
        subset: options.subset,
        images: [i0, i1],
        options: [r.caption_0, r.caption_1],
        correct: 0,
        groups: {
          winoground_id: String(r.id),
          tag: r.tag,
          secondary_tag: r.secondary_tag,
          collapsed_tag: r.collapsed_tag,
          num_main_preds: String(r.num_main_preds),
        },
        source,
        meta: { correct_per_image: [0, 1], winoground_id: r.id, image_0: r.image_0, image_1: r.image_1 },
      }),
    );
  }
  return { items, failures };
}
