/**
 * LLaVA's `llava_v1` conversation (haotian-liu/LLaVA@c121f04:llava/conversation.py, `conv_llava_v1`,
 * SeparatorStyle.TWO `get_prompt()`), the conv-mode MMVP's own evaluation uses
 * (tsb0601/MMVP@7635005:scripts/evaluate_mllm.py, default `--conv-mode llava_v1`):
 * `{system} USER: {user} ASSISTANT:` with no trailing space (the answer starts with its own space).
 */
export const LLAVA_V1_SYSTEM =
  "A chat between a curious human and an artificial intelligence assistant. The assistant gives helpful, detailed, and polite answers to the human's questions.";

export const llavaV1Chat = {
  id: 'llava-v1',
  version: 1,
  render(user: string): string {
    return `${LLAVA_V1_SYSTEM} USER: ${user} ASSISTANT:`;
  },
} as const;

/**
 * How a user turn becomes the model's prompt: `llava-v1` (the string above, the default) or `model`
 * (the GGUF's own chat template through llama-server's /apply-template, for LLaVA-NeXT, Qwen2-VL…).
 */
export type PromptFormat = 'llava-v1' | 'model';
