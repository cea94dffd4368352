import { z } from 'zod';
import { probeFields } from '../../probe-spec.js';
import { OptionOrderSchema } from '../../../core/option-order.js';

/** Config names: letters, digits, ".", "_" and "-". */
const Name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'letters, digits, ".", "_" and "-" only');

/** Fields every arm on llama-server shares. */
const vlmArmFields = {
  model: Name,
  /** The arm's id in the results (default: the arm name); lets one run hold several settings. */
  label: Name.optional(),
  /** `llava-v1` (LLaVA's llava_v1 conversation) or `model` (the GGUF's own chat template). */
  prompt_format: z.enum(['llava-v1', 'model']).default('llava-v1'),
  /** Pad the image to a square with the CLIP mean colour (MMVP's own evaluation does not). */
  pad_to_square: z.boolean().default(false),
};

/**
 * `fixed` (file order), `shuffled` (one seeded permutation per item) or `circular` (every rotation,
 * CircularEval); absent: the benchmark family's default (`fixed` for MMVP, `circular` elsewhere).
 */
const optionOrderField = { option_order: OptionOrderSchema.optional() };

/** Fields of the arms scored by option letters. */
const letterArmFields = {
  /** `mmvp`: `(a) X (b) Y` as MMVP's authors write options; `lmms-eval`: `A. X\nB. Y`. */
  option_style: z.enum(['mmvp', 'lmms-eval']).default('mmvp'),
  ...optionOrderField,
};

/** A user-written VLM2Vec image-side prompt: `<image>` once, `{question}` where the question goes. */
const Vlm2VecVariantSchema = z.strictObject({
  name: Name,
  template: z.string().refine((t) => t.split('<image>').length === 2, 'the template must contain <image> exactly once'),
  version: z.number().int().positive().default(1),
});

export const VqascoreArmSchema = z.strictObject({
  arm: z.literal('vlm.vqascore'),
  model: Name,
  label: Name.optional(),
  /** `llava-v1`: t2v_metrics' hand-built LLaVA-1.5 prompt, answer "Yes" + `</s>`; `model`: the GGUF's chat template, "Yes" + its end-of-turn. */
  prompt_format: z.enum(['llava-v1', 'model']).default('llava-v1'),
  /** LLaVA-1.5's expand2square with the CLIP mean colour (t2v_metrics: image_aspect_ratio 'pad'). */
  pad_to_square: z.boolean().default(true),
});
export const McqArmSchema = z.strictObject({ arm: z.literal('vlm.mcq'), ...vlmArmFields, ...letterArmFields });
export const TwoImageArmSchema = z.strictObject({ arm: z.literal('vlm.two-image'), ...vlmArmFields, ...letterArmFields });
export const ContrastArmSchema = z.strictObject({
  arm: z.literal('vlm.contrast'),
  ...vlmArmFields,
  ...letterArmFields,
  /** score = ℓ(image) + λ·(ℓ(image) − ℓ(text alone)); 0 reproduces vlm.mcq. */
  lambda: z.number().nonnegative().default(1),
});
export const GenerateArmSchema = z.strictObject({
  arm: z.literal('vlm.generate'),
  ...vlmArmFields,
  /** Greedy answer length bound, in tokens. */
  max_tokens: z.number().int().positive().max(1024).default(32),
  ...optionOrderField,
});
/** VLM2Vec's prompts: raw strings (`llava-v1`, as the authors' LLaVA-1.5 evaluation) or each side as a user turn of the GGUF's chat template (`model`). */
const vlm2vecFormat = z.enum(['llava-v1', 'model']).default('llava-v1');

export const Vlm2VecQuestionArmSchema = z.strictObject({
  arm: z.literal('vlm2vec.question'),
  model: Name,
  label: Name.optional(),
  prompt_format: vlm2vecFormat,
  pad_to_square: z.boolean().default(false),
  /** A user prompt variant instead of VLM2Vec's own; its template holds `{question}`. */
  prompt_variant: Vlm2VecVariantSchema.refine(
    (v) => v.template.includes('{question}'),
    'the template of a vlm2vec.question variant must contain {question}',
  ).optional(),
});
export const Vlm2VecPlainArmSchema = z.strictObject({
  arm: z.literal('vlm2vec.plain'),
  model: Name,
  label: Name.optional(),
  prompt_format: vlm2vecFormat,
  pad_to_square: z.boolean().default(false),
  /** A user prompt variant instead of `<image> Represent the given image.`; no `{question}`. */
  prompt_variant: Vlm2VecVariantSchema.refine(
    (v) => !v.template.includes('{question}'),
    'the template of a vlm2vec.plain variant must not contain {question}',
  ).optional(),
});

export const Vlm2VecProbeArmSchema = z.strictObject({
  arm: z.literal('vlm2vec.probe'),
  model: Name,
  label: Name.optional(),
  prompt_format: vlm2vecFormat,
  pad_to_square: z.boolean().default(false),
  ...probeFields,
});

export type LetterArmSpec = z.output<typeof McqArmSchema> | z.output<typeof TwoImageArmSchema> | z.output<typeof ContrastArmSchema>;
