import type { PromptTemplate, RenderedPrompt } from './prompt-template.js';
import { IMAGE_PLACEHOLDER } from './prompt-template.js';

/**
 * VQAScore for LLaVA-1.5 exactly as t2v_metrics builds it (the path Li, Koh & Du used):
 * linzhiqiu/t2v_metrics@74c7208^:t2v_metrics/models/vqascore_models/llava_model.py
 * (`format_question`, default question/answer templates) and t2v_metrics/constants.py (SYSTEM_MSG).
 * The string is hand-built (not LLaVA's conv template): the vicuna_v1 "curious user" system text,
 * " USER: <image>\n", the question, and " ASSISTANT: " WITH a trailing space; the answer is "Yes"
 * followed by "</s>", and the score is the geometric mean probability of those answer tokens.
 */
export const T2V_SYSTEM_MSG =
  "A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful, detailed, and polite answers to the user's questions.";

export const VQASCORE_QUESTION_TEMPLATE = 'Does this figure show "{}"? Please answer yes or no.';
export const VQASCORE_ANSWER_TEMPLATE = 'Yes';

export const vqascoreLlava: PromptTemplate<{ caption: string }> = {
  id: 't2v_metrics.vqascore.llava-v1.5',
  version: 1,
  render({ caption }): RenderedPrompt {
    // Python's str.format replaces the single "{}" once; the caption is inserted verbatim.
    const question = VQASCORE_QUESTION_TEMPLATE.replace('{}', () => caption);
    return {
      text: `${T2V_SYSTEM_MSG} USER: ${IMAGE_PLACEHOLDER}\n${question} ASSISTANT: `,
      answer: VQASCORE_ANSWER_TEMPLATE,
    };
  },
};
