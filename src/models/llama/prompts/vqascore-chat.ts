import { IMAGE_PLACEHOLDER } from './prompt-template.js';
import { VQASCORE_ANSWER_TEMPLATE, VQASCORE_QUESTION_TEMPLATE } from './vqascore-llava.js';

/**
 * VQAScore's question as one user turn for a model's own chat template (`prompt_format: model`):
 * the image, a newline, and t2v_metrics' question (vqascore-llava.ts); the scored answer is "Yes"
 * followed by the model's end-of-turn token (where t2v_metrics' LLaVA-1.5 path appends `</s>`).
 */
export const vqascoreChat = {
  id: 't2v_metrics.vqascore.question',
  version: 1,
  answer: VQASCORE_ANSWER_TEMPLATE,
  userTurn(caption: string): string {
    // Python's str.format replaces the single "{}" once; the caption is inserted verbatim.
    return `${IMAGE_PLACEHOLDER}\n${VQASCORE_QUESTION_TEMPLATE.replace('{}', () => caption)}`;
  },
} as const;
