import { IMAGE_PLACEHOLDER } from './prompt-template.js';

/**
 * The free-answer prompt of `vlm.generate`: MMVP's own evaluation prompt
 * (tsb0601/MMVP@7635005:scripts/evaluate_mllm.py: `qs = "<image>" + "\n" + row['Question'] + " " +
 * row['Options']`), options written `(a) X (b) Y`, no post-prompt. MMVP's authors sampled at
 * temperature 0.2 and graded with GPT-4; here the answer is greedy and graded by the rule-based
 * parser (src/arms/answer-parser.ts), whose id and version are recorded per sample.
 */
export const generatePrompt = {
  id: 'generate.mmvp',
  version: 1,
  userTurn(question: string, options: string[]): string {
    const opts = options.map((o, k) => `(${String.fromCharCode(97 + k)}) ${o}`).join(' ');
    return `${IMAGE_PLACEHOLDER}\n${question} ${opts}`;
  },
} as const;
