import { IMAGE_PLACEHOLDER } from './prompt-template.js';

/**
 * Multiple-choice prompts scored by the option letter at the answer position (`vlm.mcq`,
 * `vlm.contrast`, `vlm.two-image`). Images come first, the variable text last, so one image's
 * prompts share the cached image prefix.
 *
 * - `mmvp` (default): the options as MMVP's authors write them in Questions.csv, `(a) Up (b) Down`,
 *   after the question with one space (tsb0601/MMVP@7635005:scripts/evaluate_mllm.py:
 *   `cur_prompt = row['Question'] + " " + row['Options']`, `qs = "<image>" + "\n" + cur_prompt`),
 *   then lmms-eval's post-prompt (EvolvingLMMs-Lab/lmms-eval@75571cf:lmms_eval/tasks/mmvp/mmvp.yaml
 *   `post_prompt`). The answers scored are `(a)`, `(b)`…: their shared first token `▁(` is put in
 *   the prompt and the letter token after it is scored.
 * - `lmms-eval`: lmms-eval's own rewrite, `{question}\nA. Up\nB. Down{post_prompt}`
 *   (lmms_eval/tasks/mmvp/utils.py `mmvp_doc_to_text`); the answers are `A`, `B`….
 *
 * Items without a question of their own (What'sUp: captions only) are asked MCQ_DEFAULT_QUESTION.
 */
export const LMMS_EVAL_POST_PROMPT = "\nAnswer with the option's letter from the given choices directly.";
export const MCQ_DEFAULT_QUESTION = 'Which caption describes the image?';

export type OptionStyle = 'mmvp' | 'lmms-eval';

export interface McqText {
  /** The question and options (no image placeholder, no chat wrapping). */
  text: string;
  /** The answers whose probabilities are compared, one per option, in option order. */
  answers: string[];
}

export const mcqPrompt = {
  id: 'mcq',
  version: 1,
  /** `(a)`, `(b)`… or `A`, `B`… for option k. */
  answer(style: OptionStyle, k: number): string {
    const letter = String.fromCharCode(97 + k);
    return style === 'mmvp' ? `(${letter})` : letter.toUpperCase();
  },
  render(style: OptionStyle, question: string, options: string[]): McqText {
    if (options.length > 26) throw new Error('more than 26 options');
    if (style === 'mmvp') {
      const opts = options.map((o, k) => `${mcqPrompt.answer(style, k)} ${o}`).join(' ');
      return { text: `${question} ${opts}${LMMS_EVAL_POST_PROMPT}`, answers: options.map((_, k) => mcqPrompt.answer(style, k)) };
    }
    const opts = options.map((o, k) => `${mcqPrompt.answer(style, k)}. ${o}`).join('\n');
    return { text: `${question}\n${opts}${LMMS_EVAL_POST_PROMPT}`, answers: options.map((_, k) => mcqPrompt.answer(style, k)) };
  },
  /** The user turn with the image first: `<image>\n{question and options}` (MMVP's `qs`). */
  userTurn(text: string, images: number): string {
    return `${`${IMAGE_PLACEHOLDER}\n`.repeat(images)}${text}`;
  },
} as const;

/** Prompt id recorded with a result: `mcq.mmvp@v1`-style ids per option style. */
export function mcqPromptId(style: OptionStyle): { id: string; version: number } {
  return { id: `mcq.${style}`, version: mcqPrompt.version };
}
