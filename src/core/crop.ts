import sharp from 'sharp';
import { z } from 'zod';
import { PerceiveError } from './errors.js';
import { type LoadedImage, sha256Hex } from './image.js';

/** A box an item's image is cut to before any model sees it (ARO's VG items: `item.meta.crop`). */
export const CropBoxSchema = z.object({ x: z.number(), y: z.number(), w: z.number().positive(), h: z.number().positive() });
export type CropBox = z.infer<typeof CropBoxSchema>;

/** Python 3's round(): half to even (PIL rounds crop boxes with it). */
export function pythonRound(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * PIL's `Image.crop((x, y, x + w, y + h))` as ARO's VG_Relation / VG_Attribution `__getitem__`
 * applies it (mertyg/vision-language-models-are-bows dataset_zoo/aro_datasets.py): the box is
 * rounded to integers, and parts of it outside the image come back black. No EXIF rotation
 * (PIL's open does not apply it). Returns a PNG (lossless) as a new LoadedImage whose sha256 is
 * that of the cropped pixels' PNG, so caches keyed by image hash never mix crops.
 */
export async function cropImage(image: LoadedImage, box: CropBox): Promise<LoadedImage> {
  const x0 = pythonRound(box.x);
  const y0 = pythonRound(box.y);
  const x1 = pythonRound(box.x + box.w);
  const y1 = pythonRound(box.y + box.h);
  if (x1 <= x0 || y1 <= y0) throw new PerceiveError('bad-crop', `empty crop box ${JSON.stringify(box)} for ${image.path}`);
  const left = Math.max(0, -x0);
  const top = Math.max(0, -y0);
  const right = Math.max(0, x1 - image.width);
  const bottom = Math.max(0, y1 - image.height);
  let source = image.bytes;
  if (left || top || right || bottom) {
    source = await sharp(image.bytes)
      .removeAlpha()
      .extend({ left, top, right, bottom, background: { r: 0, g: 0, b: 0 } })
      .png()
      .toBuffer();
  }
  const bytes = await sharp(source)
    .removeAlpha()
    .extract({ left: x0 + left, top: y0 + top, width: x1 - x0, height: y1 - y0 })
    .png()
    .toBuffer();
  return { path: `${image.path}#crop=${x0},${y0},${x1},${y1}`, bytes, sha256: sha256Hex(bytes), width: x1 - x0, height: y1 - y0 };
}

/** The item's crop box, validated, or undefined when it has none. */
export function itemCrop(meta: Record<string, unknown>, itemId: string): CropBox | undefined {
  if (meta.crop === undefined) return undefined;
  const parsed = CropBoxSchema.safeParse(meta.crop);
  if (!parsed.success) throw new PerceiveError('bad-crop', `item ${itemId}: meta.crop is not {x, y, w, h}: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}
