import { IMAGE_PLACEHOLDER } from './prompt-template.js';

/**
 * Both images of a pair in one prompt (Li, Koh & Du v1 §5.2 fed both MMVP images at once; their
 * exact prompt was not published, so this one is ours): image 1, image 2, then the question asked
 * about one image at a time. Both images come first, so the two prompts of a pair (one per image)
 * share the cached two-image prefix.
 */
export const twoImagePrompt = {
  id: 'two-image',
  version: 1,
  userTurn(images: number, target: number, questionText: string): string {
    const head = Array.from({ length: images }, (_, k) => `Image ${k + 1}: ${IMAGE_PLACEHOLDER}\n`).join('');
    return `${head}Answer about image ${target + 1} only. ${questionText}`;
  },
} as const;
