import { IMAGE_PLACEHOLDER } from './prompt-template.js';

/**
 * VLM2Vec's LLaVA-1.5 embedding prompts (lst627/CLIP-Embeds, VLM2Vec/eval_llava15.py and
 * VLM2Vec/demo_llava15.py, as Li, Koh & Du ran them):
 * - image side, `question`: `<image> Represent the given image with the following question: {question}`
 * - image side, `plain` (the paper's prompt ablation): `<image> Represent the given image.`
 * - text side: the raw caption, no instruction.
 * A config may add further variants (a name and a template holding `<image>` once and, optionally,
 * `{question}`); each is recorded under its own prompt id `vlm2vec.<name>` and version.
 */
export interface Vlm2VecVariant {
  name: string;
  template: string;
  version: number;
}

export const VLM2VEC_QUESTION: Vlm2VecVariant = {
  name: 'question',
  template: `${IMAGE_PLACEHOLDER} Represent the given image with the following question: {question}`,
  version: 1,
};

export const VLM2VEC_PLAIN: Vlm2VecVariant = {
  name: 'plain',
  template: `${IMAGE_PLACEHOLDER} Represent the given image.`,
  version: 1,
};

export function vlm2vecUsesQuestion(variant: Vlm2VecVariant): boolean {
  return variant.template.includes('{question}');
}

/** The image-side prompt; `{question}` is replaced once, verbatim (Python's str.format). */
export function renderVlm2Vec(variant: Vlm2VecVariant, question: string | undefined): string {
  if (!vlm2vecUsesQuestion(variant)) return variant.template;
  if (question === undefined) throw new Error(`prompt variant ${variant.name} needs a question`);
  return variant.template.replace('{question}', () => question);
}
