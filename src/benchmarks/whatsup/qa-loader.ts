/**
 * What'sUp COCO-QA and VG-QA (GQA) one- and two-object loader, ported (not copied) from
 * `amitakamath/whatsup_vlms@7c1f2550eace32e7b8c77de5a792347c402960d1:dataset_zoo/aro_datasets.py`,
 * classes `COCO_QA` and `VG_QA` (`__init__`, `__getitem__`):
 *
 * - Files `coco_qa_one_obj.json`, `coco_qa_two_obj.json`, `vg_qa_one_obj.json`, `vg_qa_two_obj.json`:
 *   a JSON list of `[image_id, correct caption, wrong caption]`; `caption_options = [d[1], d[2]]`.
 * - Images: COCO `root_dir/val2017/{str(image_id).zfill(12)}.jpg`, VG `root_dir/vg_images/{image_id}.jpg`,
 *   with root_dir = ARO_ROOT (the authors' `data/`): our `data_dir`.
 * - `all_prepositions` (the per-preposition label): one-object files `d[1].split()[-1]` (the last
 *   word); COCO two-object `'left of' in d[1]` → left, `'right of'` → right, `'above'` → above, else
 *   below; VG two-object left / right / `'front of'` → front / `'behind'` → behind, else top.
 * - Li et al.'s `eval_COCO_VG` (CLIP-Embeds eval_clip.py) groups by `gold_prep`: the caption's words
 *   in {top, bottom, above, below, left, right, front, behind}; stored as `groups.gold` when there is
 *   exactly one (none crashes their code, several are picked arbitrarily: such a row fails in the
 *   `clip_embeds` convention and has no VLM2Vec question).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { PerceiveError, errorMessage } from '../../core/errors.js';
import { ItemSchema, type Item } from '../../core/item.js';
import type { LoadFailure } from '../benchmark-family.js';
import { isReadableFile, joinInsideDataDir } from '../../core/data-path.js';
import { qaQuestion } from './vlm2vec-question.js';
import { describeZodIssues } from '../zod-row-issues.js';

export type QaSource = 'coco' | 'vg';
export type QaObjects = 'one' | 'two';

export const QaRowSchema = z.tuple([z.union([z.number().int().nonnegative(), z.string().min(1)]), z.string().min(1), z.string().min(1)]);

const QA_GOLD_WORDS = ['top', 'bottom', 'above', 'below', 'left', 'right', 'front', 'behind'] as const;

/** `COCO_QA`/`VG_QA.__init__`'s `all_prepositions` label. */
export function qaPrepositionLabel(caption: string, source: QaSource, objects: QaObjects): string {
  if (objects === 'one')
    return (
      caption
        .split(/\s+/)
        .filter((w) => w !== '')
        .at(-1) ?? ''
    );
  if (caption.includes('left of')) return 'left';
  if (caption.includes('right of')) return 'right';
  if (source === 'coco') return caption.includes('above') ? 'above' : 'below';
  if (caption.includes('front of')) return 'front';
  if (caption.includes('behind')) return 'behind';
  return 'top';
}

/** eval_COCO_VG's gold_prep, or a reason. */
export function qaGoldPreposition(caption: string): string | { reason: string } {
  const words = new Set(caption.split(/\s+/));
  const found = QA_GOLD_WORDS.filter((w) => words.has(w));
  if (found.length === 1) return found[0] as string;
  return {
    reason:
      found.length === 0
        ? `caption ${JSON.stringify(caption)} has none of ${QA_GOLD_WORDS.join(', ')} (eval_COCO_VG would crash on gold_prep[0])`
        : `caption ${JSON.stringify(caption)} has ${found.join(', ')}; eval_COCO_VG would pick one arbitrarily`,
  };
}

/** Which file a subset name or annotation file is. */
export function qaKind(subset: string, annotationFile: string): { source: QaSource; objects: QaObjects } {
  const s = `${subset} ${path.basename(annotationFile)}`.toLowerCase();
  const source: QaSource = s.includes('vg') || s.includes('gqa') ? 'vg' : 'coco';
  const objects: QaObjects = s.includes('two') ? 'two' : 'one';
  return { source, objects };
}

/** The image path relative to the data dir, as `__getitem__` builds it. */
export function qaImageRelativePath(imageId: number | string, source: QaSource): string {
  return source === 'coco' ? `val2017/${String(imageId).padStart(12, '0')}.jpg` : `vg_images/${String(imageId)}.jpg`;
}

export interface QaLoadOptions {
  dataDir: string;
  subset: string;
  /** clip_embeds: rows without exactly one gold word fail. */
  requireGold: boolean;
  limit?: number;
  checkImages?: boolean;
  /** Seed of the VLM2Vec question's flip. */
  seed?: number;
}

export async function loadWhatsUpQa(annotationFile: string, options: QaLoadOptions): Promise<{ items: Item[]; failures: LoadFailure[] }> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(annotationFile, 'utf8'));
  } catch (error) {
    throw new PerceiveError('whatsup-annotation-unreadable', `Cannot read What'sUp QA file ${annotationFile}: ${errorMessage(error)}`, {
      hint: 'Expected coco_qa_one_obj.json, coco_qa_two_obj.json, vg_qa_one_obj.json or vg_qa_two_obj.json from amitakamath/whatsup_vlms.',
      cause: error,
    });
  }
  if (!Array.isArray(parsed)) {
    throw new PerceiveError('whatsup-annotation-invalid', `What'sUp QA file ${annotationFile} must be a JSON list of [image_id, caption, caption]`);
  }
  const kind = qaKind(options.subset, annotationFile);
  const rows: unknown[] = options.limit === undefined ? parsed : parsed.slice(0, options.limit);
  const items: Item[] = [];
  const failures: LoadFailure[] = [];
  for (let row = 0; row < rows.length; row++) {
    const source = { file: annotationFile, row };
    const fail = (reason: string): void => {
      failures.push({ source, reason: `${annotationFile} row ${row}: ${reason}` });
    };
    const r = QaRowSchema.safeParse(rows[row]);
    if (!r.success) {
      fail(describeZodIssues(r.error));
      continue;
    }
    const [imageId, good, bad] = r.data;
    const image = joinInsideDataDir(options.dataDir, qaImageRelativePath(imageId, kind.source));
    if (typeof image !== 'string') {
      fail(`field [0] (image_id): image path ${image.reason}`);
      continue;
    }
    if (options.checkImages !== false && !(await isReadableFile(image))) {
      fail(`field [0] (image_id): image file ${image} not found or unreadable`);
      continue;
    }
    const gold = qaGoldPreposition(good);
    if (options.requireGold && typeof gold !== 'string') {
      fail(`field [1]: ${gold.reason}`);
      continue;
    }
    const groups: Record<string, string> = {
      source: kind.source,
      objects: kind.objects,
      preposition: qaPrepositionLabel(good, kind.source, kind.objects),
    };
    const meta: Record<string, unknown> = { imageId };
    if (typeof gold === 'string') {
      groups.gold = gold;
      const q = qaQuestion(good, gold, kind, options.seed ?? 0, row);
      if ('question' in q) {
        meta.vlm2vec_question = q.question;
        meta.vlm2vec_flipped = q.flipped;
      } else meta.vlm2vec_question_error = q.reason;
    } else meta.vlm2vec_question_error = gold.reason;
    items.push(
      ItemSchema.parse({
        id: `whatsup.${options.subset}/${row}`,
        benchmark: 'whatsup',
        subset: options.subset,
        images: [image],
        options: [good, bad],
        correct: 0,
        groups,
        source,
        meta,
      }),
    );
  }
  return { items, failures };
}
