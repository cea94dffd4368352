/**
 * SigLIP image preprocessing as Hugging Face's SiglipImageProcessor does it, driven by
 * preprocessor_config.json: convert to RGB → resize to the exact square size (no aspect
 * preservation, no crop) with the configured resample filter → rescale (×1/255) → normalise
 * (mean = std = 0.5 unless the file says otherwise) → float32 CHW.
 *
 * The decoding, resizing and arithmetic are CLIP's (ClipPreprocessor with an exact resize and no
 * crop); only the reading of the config differs: SigLIP's defaults are not CLIP's (no center crop,
 * IMAGENET_STANDARD mean/std 0.5), and the size must be {height, width}.
 */
import { z } from 'zod';
import { PerceiveError } from '../../core/errors.js';
import { channelTriple, type ClipImageProcessing, ClipPreprocessor, RESAMPLE_KERNELS } from '../clip/clip-preprocessor.js';

/** IMAGENET_STANDARD_MEAN / _STD, SiglipImageProcessor's defaults. */
export const SIGLIP_MEAN: readonly number[] = [0.5, 0.5, 0.5];
export const SIGLIP_STD: readonly number[] = [0.5, 0.5, 0.5];

const positiveInt = z.number().int().positive();
const ChannelsSchema = z.union([z.number(), z.array(z.number()).length(3)]);

/**
 * SiglipImageProcessor's arguments and defaults
 * (huggingface/transformers@e3ac482ec8cc4e2fdf1818924aa1a348f1f29d8b:src/transformers/models/siglip/image_processing_siglip.py).
 */
const SiglipPreprocessorConfigSchema = z.looseObject({
  do_resize: z.boolean().default(true),
  size: z.looseObject({ height: positiveInt, width: positiveInt }).default({ height: 224, width: 224 }),
  resample: z.number().int().default(3),
  do_rescale: z.boolean().default(true),
  rescale_factor: z
    .number()
    .positive()
    .default(1 / 255),
  do_normalize: z.boolean().default(true),
  image_mean: ChannelsSchema.default([...SIGLIP_MEAN]),
  image_std: ChannelsSchema.default([...SIGLIP_STD]),
});

/** Validates a parsed SigLIP preprocessor_config.json; `source` names the file in errors. */
export function parseSiglipPreprocessorConfig(json: unknown, source = 'preprocessor_config.json'): ClipImageProcessing {
  const parsed = SiglipPreprocessorConfigSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new PerceiveError(
      'bad-model',
      `${source}: ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'} (expected a SiglipImageProcessor config with size {height, width})`,
    );
  }
  const c = parsed.data;
  // Pillow resample codes → sharp kernels: 2 bilinear (SigLIP2), 3 bicubic (SigLIP).
  const kernel = RESAMPLE_KERNELS[c.resample];
  if (!kernel) throw new PerceiveError('bad-model', `${source}: resample ${c.resample} is not supported (0–3 are)`);
  if (!c.do_resize) throw new PerceiveError('bad-model', `${source}: do_resize false is not supported: a fixed-resolution SigLIP needs its square size`);
  return {
    resize: { kind: 'exact', height: c.size.height, width: c.size.width },
    kernel,
    crop: null,
    rescaleFactor: c.do_rescale ? c.rescale_factor : null,
    normalize: c.do_normalize ? { mean: channelTriple(c.image_mean), std: channelTriple(c.image_std) } : null,
  };
}

/** The CLIP pipeline configured as SiglipImageProcessor. */
export function siglipPreprocessor(json: unknown, source?: string): ClipPreprocessor {
  return new ClipPreprocessor(parseSiglipPreprocessorConfig(json, source));
}
