import sharp from 'sharp';

/** OpenAI CLIP's image_mean, as in every CLIP preprocessor_config.json. */
export const CLIP_IMAGE_MEAN = [0.48145466, 0.4578275, 0.40821073] as const;

/** `tuple(int(x*255) for x in image_processor.image_mean)` = (122, 116, 104). */
export const CLIP_MEAN_RGB: readonly [number, number, number] = [
  Math.trunc(CLIP_IMAGE_MEAN[0] * 255),
  Math.trunc(CLIP_IMAGE_MEAN[1] * 255),
  Math.trunc(CLIP_IMAGE_MEAN[2] * 255),
];

/**
 * LLaVA's `expand2square` (haotian-liu/LLaVA llava/mm_utils.py, also in t2v_metrics'
 * llava_model.py): the image is pasted onto a square canvas of the background colour, at
 * x = (side - width) // 2 (or y = (side - height) // 2). Returns PNG bytes (lossless), or the
 * input unchanged when it is already square.
 */
export async function padToSquare(bytes: Buffer, background: readonly [number, number, number] = CLIP_MEAN_RGB): Promise<Buffer> {
  const image = sharp(bytes, { failOn: 'error' }).rotate().removeAlpha();
  const meta = await image.metadata();
  // metadata() reports the stored size; .rotate() may swap it for EXIF orientations 5-8.
  const swap = (meta.orientation ?? 1) >= 5;
  const width = swap ? meta.height : meta.width;
  const height = swap ? meta.width : meta.height;
  if (width === undefined || height === undefined) throw new Error('image has no size');
  if (width === height) return bytes;
  const side = Math.max(width, height);
  const left = Math.floor((side - width) / 2);
  const top = Math.floor((side - height) / 2);
  return image
    .extend({
      left,
      right: side - width - left,
      top,
      bottom: side - height - top,
      background: { r: background[0], g: background[1], b: background[2] },
    })
    .png()
    .toBuffer();
}
