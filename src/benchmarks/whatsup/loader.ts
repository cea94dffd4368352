/**
 * What'sUp Controlled_Images A/B loader.
 *
 * Ported (not copied) from `amitakamath/whatsup_vlms@7c1f2550eace32e7b8c77de5a792347c402960d1:dataset_zoo/aro_datasets.py`,
 * class `Controlled_Images` (`__init__`, `__getitem__`, `evaluate_scores`):
 *
 * - Subset A reads `controlled_images_dataset.json`, subset B `controlled_clevr_dataset.json`; both are
 *   a JSON list of `{ image_path, caption_options }`, and `caption_options[0]` is always the correct caption.
 * - `__getitem__` opens `Image.open(test_case["image_path"])` relative to the process working directory,
 *   i.e. the repository root, since the paths in the JSON already start with `data/`
 *   (`data/controlled_images/beer-bottle_on_armchair.jpeg`, `data/controlled_clevr/book_behind_can.jpeg`).
 * - `__init__` labels each row's preposition from substrings of the full `image_path`
 *   (A: `left_of` → `left_of`, `right_of` → `right_of`, `_on_` → `on`, else `under`;
 *    B: `left_of`, `right_of`, `_in-front_of_` → `in-front_of`, else `behind`).
 * - `__init__`/`evaluate_scores` group rows into sets keyed by the file name
 *   `(name.split('_')[0], name.split('_')[-1][:-5])` (object 1, object 2 without `.jpeg`) and, inside a
 *   set, by the slot `name.split('_')[1]` (`left`, `right`, `on`, `under` / `in-front`, `behind`).
 *
 * Those exact keys are stored in `item.groups` so that `metrics.ts` can reproduce `evaluate_scores`.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { PerceiveError, errorMessage } from '../../core/errors.js';
import { ItemSchema, type Item } from '../../core/item.js';
import { isReadableFile, unsafeDataPathReason } from '../../core/data-path.js';
import { describeZodIssues } from '../zod-row-issues.js';

export type WhatsUpVariant = 'A' | 'B';

export interface WhatsUpLoadFailure {
  source: { file: string; row: number };
  reason: string;
}

export interface WhatsUpLoadOptions {
  /**
   * Directory the `image_path` values are resolved against. The authors resolve them against the
   * repository root (the directory that holds `data/`); the directory holding the images themselves,
   * and the authors' `data/` directory (ARO_ROOT), work too. See `resolveWhatsUpImage`.
   */
  dataDir: string;
  /** `controlled_a` (Controlled_Images_A) or `controlled_b` (Controlled_Images_B), or any other name. */
  subset: 'controlled_a' | 'controlled_b' | string;
  /** Read only the first `limit` rows of the file (row indices stay the file's indices). */
  limit?: number;
  /**
   * A/B layout when `subset` is neither `controlled_a` nor `controlled_b`. Default: from the annotation
   * file name (`controlled_clevr…` → B, `controlled_images…` → A), else B when any row's image_path has
   * `_in-front_of_` or `_behind_`, else A.
   */
  variant?: WhatsUpVariant;
  /** Default true. False: do not look for the images (`perceive metrics`); the first candidate path is used. */
  checkImages?: boolean;
}

/** One row of controlled_images_dataset.json / controlled_clevr_dataset.json. Extra keys are ignored. */
export const WhatsUpControlledRowSchema = z.object({
  image_path: z.string().min(1),
  // `evaluate_scores` documents the scores as N x 1 x 4: exactly four captions, the first correct.
  caption_options: z.array(z.string().min(1)).length(4),
});
export type WhatsUpControlledRow = z.infer<typeof WhatsUpControlledRowSchema>;

/** The slots of one set (the keys of the authors' `eval_dict` values), in the authors' order. */
export const WHATSUP_SLOTS: Record<WhatsUpVariant, readonly string[]> = {
  A: ['left', 'right', 'on', 'under'],
  B: ['left', 'right', 'in-front', 'behind'],
};

/** The two complementary pairs per set that `evaluate_scores` checks. */
export const WHATSUP_PAIRS: Record<WhatsUpVariant, ReadonlyArray<readonly [string, string]>> = {
  A: [
    ['left', 'right'],
    ['on', 'under'],
  ],
  B: [
    ['left', 'right'],
    ['in-front', 'behind'],
  ],
};

/** The relation word in the file name as the real sets spell it (`<obj1>_<relation>_<obj2>.jpeg`). */
const FILE_RELATIONS: Record<WhatsUpVariant, readonly string[]> = {
  A: ['left_of', 'right_of', 'on', 'under'],
  B: ['left_of', 'right_of', 'in-front_of', 'behind'],
};

export interface WhatsUpPathInfo {
  /** The authors' `all_prepositions` label. */
  preposition: string;
  /** The authors' `eval_dict` key, `(obj1, obj2key)` joined with `|`. */
  set: string;
  /** The authors' slot inside the set: `name.split('_')[1]`. */
  slot: string;
  /** `${set}|${a}-${b}` for the complementary pair the slot belongs to. */
  pair: string;
  /** Object names as the captions write them (hyphens → spaces). */
  obj1: string;
  obj2: string;
  /** The relation as in the file name (`left_of`, `on`, `in-front_of`…). */
  relation: string;
}

/**
 * The authors' preposition label for a row (`Controlled_Images.__init__`, `self.all_prepositions`):
 * substring tests on the whole image_path, with `under` / `behind` as the fall-through.
 */
export function whatsupPrepositionLabel(imagePath: string, variant: WhatsUpVariant): string {
  if (imagePath.includes('left_of')) return 'left_of';
  if (imagePath.includes('right_of')) return 'right_of';
  if (variant === 'A') return imagePath.includes('_on_') ? 'on' : 'under';
  return imagePath.includes('_in-front_of_') ? 'in-front_of' : 'behind';
}

/**
 * Derives the grouping keys from an image_path the way `Controlled_Images` does, or returns a reason
 * string when the file name does not follow `<obj1>_<relation>_<obj2>.<ext>` (the authors' code would
 * mis-group or crash on such a row; we report it as a failure instead).
 */
export function parseWhatsUpImagePath(imagePath: string, variant: WhatsUpVariant): WhatsUpPathInfo | string {
  // The authors split on '/', not on the platform separator.
  const name = imagePath.split('/').at(-1) ?? '';
  const parts = name.split('_');
  const first = parts[0] ?? '';
  const slot = parts[1];
  const last = parts.at(-1) ?? '';
  const ext = path.extname(name);
  const stem = ext === '' ? name : name.slice(0, -ext.length);
  const relation = FILE_RELATIONS[variant].find((r) => {
    const middle = `_${r}_`;
    const at = stem.indexOf(middle);
    return at > 0 && at + middle.length < stem.length;
  });
  if (parts.length < 3 || slot === undefined || relation === undefined || ext === '' || first === '') {
    return `file name ${JSON.stringify(name)} does not follow <obj1>_<relation>_<obj2>.jpeg with relation one of ${FILE_RELATIONS[variant].join(', ')} (Controlled_Images_${variant})`;
  }
  const pairSpec = WHATSUP_PAIRS[variant].find(([a, b]) => a === slot || b === slot);
  if (pairSpec === undefined) {
    return `file name ${JSON.stringify(name)}: relation slot ${JSON.stringify(slot)} is not one of ${WHATSUP_SLOTS[variant].join(', ')}`;
  }
  // The authors' key: name.split('_')[0] and name.split('_')[-1][:-5] (drops ".jpeg").
  const set = `${first}|${last.slice(0, Math.max(0, last.length - 5))}`;
  const at = stem.indexOf(`_${relation}_`);
  return {
    preposition: whatsupPrepositionLabel(imagePath, variant),
    set,
    slot,
    pair: `${set}|${pairSpec[0]}-${pairSpec[1]}`,
    obj1: stem.slice(0, at).replace(/-/g, ' '),
    obj2: stem.slice(at + relation.length + 2).replace(/-/g, ' '),
    relation,
  };
}

/**
 * Candidate files for an image_path, in the order tried (an absolute image_path or one with a `..`
 * segment has none: it never leaves the data dir, see `data-path.ts`):
 * 1. `dataDir/image_path` — dataDir is the authors' working directory (the repo root holding `data/`);
 * 2. `dataDir/image_path` without its leading `data/` — dataDir is the authors' `data/` (ARO_ROOT);
 *    (CLIP-Embeds' eval_clip.py opens `os.path.join(root_dir, d["image_path"][5:])`, the same thing);
 * 3. `dataDir/<parent folder>/<file>` — e.g. `dataDir/controlled_images/x.jpeg`;
 * 4. `dataDir/<file>` — a flat folder of images.
 */
export function whatsupImageCandidates(imagePath: string, dataDir: string): string[] {
  const out: string[] = [];
  if (unsafeDataPathReason(imagePath) !== undefined) return out;
  const add = (p: string): void => {
    const abs = path.resolve(p);
    if (!out.includes(abs)) out.push(abs);
  };
  const posix = imagePath.replace(/\\/g, '/');
  add(path.join(dataDir, posix));
  if (posix.startsWith('data/')) add(path.join(dataDir, posix.slice('data/'.length)));
  const segments = posix.split('/').filter((s) => s !== '' && s !== '.');
  const file = segments.at(-1) ?? posix;
  if (segments.length >= 2) add(path.join(dataDir, segments.at(-2) ?? '', file));
  add(path.join(dataDir, file));
  return out;
}

/** The first readable regular file among `whatsupImageCandidates`, or undefined. */
export async function resolveWhatsUpImage(imagePath: string, dataDir: string): Promise<string | undefined> {
  for (const candidate of whatsupImageCandidates(imagePath, dataDir)) {
    if (await isReadableFile(candidate)) return candidate;
  }
  return undefined;
}

function variantFor(subset: string, annotationFile: string, rows: unknown[], explicit?: WhatsUpVariant): WhatsUpVariant {
  if (explicit !== undefined) return explicit;
  if (subset === 'controlled_a') return 'A';
  if (subset === 'controlled_b') return 'B';
  const base = path.basename(annotationFile).toLowerCase();
  if (base.includes('controlled_clevr')) return 'B';
  if (base.includes('controlled_images')) return 'A';
  const looksB = rows.some((r) => {
    const p = (r as { image_path?: unknown } | null)?.image_path;
    return typeof p === 'string' && (p.includes('_in-front_of_') || p.includes('_behind_'));
  });
  return looksB ? 'B' : 'A';
}

/**
 * Loads a What'sUp Controlled_Images file (`controlled_images_dataset.json` = A,
 * `controlled_clevr_dataset.json` = B). A bad row or a missing image is returned as a failure;
 * an unreadable or non-list annotation file throws a PerceiveError.
 */
export async function loadWhatsUpControlled(annotationFile: string, options: WhatsUpLoadOptions): Promise<{ items: Item[]; failures: WhatsUpLoadFailure[] }> {
  const { dataDir, subset, limit } = options;
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 0)) {
    throw new PerceiveError('whatsup-bad-limit', `What'sUp limit must be a non-negative integer, got ${String(limit)}`);
  }
  let text: string;
  try {
    text = await readFile(annotationFile, 'utf8');
  } catch (error) {
    throw new PerceiveError('whatsup-annotation-unreadable', `Cannot read What'sUp annotation file ${annotationFile}: ${errorMessage(error)}`, {
      hint: 'Expected controlled_images_dataset.json or controlled_clevr_dataset.json from amitakamath/whatsup_vlms.',
      cause: error,
    });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new PerceiveError('whatsup-annotation-invalid', `What'sUp annotation file ${annotationFile} is not valid JSON: ${errorMessage(error)}`, {
      cause: error,
    });
  }
  if (!Array.isArray(parsed)) {
    throw new PerceiveError(
      'whatsup-annotation-invalid',
      `What'sUp annotation file ${annotationFile} must be a JSON list of {image_path, caption_options}, got ${parsed === null ? 'null' : typeof parsed}`,
    );
  }
  const rows: unknown[] = limit === undefined ? parsed : parsed.slice(0, limit);
  const variant = variantFor(subset, annotationFile, rows, options.variant);
  const items: Item[] = [];
  const failures: WhatsUpLoadFailure[] = [];

  for (let row = 0; row < rows.length; row++) {
    const source = { file: annotationFile, row };
    const fail = (reason: string): void => {
      failures.push({ source, reason: `${annotationFile} row ${row}: ${reason}` });
    };
    const result = WhatsUpControlledRowSchema.safeParse(rows[row]);
    if (!result.success) {
      fail(describeZodIssues(result.error));
      continue;
    }
    const { image_path: imagePath, caption_options: captions } = result.data;
    const info = parseWhatsUpImagePath(imagePath, variant);
    if (typeof info === 'string') {
      fail(`field image_path: ${info}`);
      continue;
    }
    const unsafe = unsafeDataPathReason(imagePath);
    if (unsafe !== undefined) {
      fail(`field image_path: ${unsafe}`);
      continue;
    }
    const image = options.checkImages === false ? whatsupImageCandidates(imagePath, dataDir)[0] : await resolveWhatsUpImage(imagePath, dataDir);
    if (image === undefined) {
      fail(
        `field image_path: image file ${JSON.stringify(imagePath)} not found or unreadable (tried ${whatsupImageCandidates(imagePath, dataDir).join(', ')})`,
      );
      continue;
    }
    items.push(
      ItemSchema.parse({
        id: `whatsup.${subset}/${row}`,
        benchmark: 'whatsup',
        subset,
        images: [image],
        options: captions,
        correct: 0,
        groups: {
          variant,
          preposition: info.preposition,
          set: info.set,
          slot: info.slot,
          pair: info.pair,
        },
        source,
        meta: {
          imagePath,
          obj1: info.obj1,
          obj2: info.obj2,
          relation: info.relation,
        },
      }),
    );
  }
  return { items, failures };
}
