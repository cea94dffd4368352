import { PerceiveError } from '../../../core/errors.js';
import type { Item } from '../../../core/item.js';
import type { LoadedImage } from '../../../core/image.js';
import { padToSquare } from '../pad-to-square.js';
import { llavaV1Chat, type PromptFormat } from '../prompts/llava-v1-chat.js';
import { MCQ_DEFAULT_QUESTION } from '../prompts/mcq-prompt.js';
import type { CallTimings, ChatPrompter } from '../../capabilities.js';
import { emptyTimings, type SampleTimings } from '../../arm.js';

/**
 * What the VLM arms share: rendering a user turn in a prompt format, the question an item asks,
 * the image bytes sent, and the per-call token counts recorded in samples.jsonl.
 */

export interface RenderedTurn {
  /** the whole prompt, IMAGE_PLACEHOLDER once per image */
  prompt: string;
  /** what goes before an answer: " " after `ASSISTANT:`, nothing after a template ending in a newline */
  answerLead: string;
}

/** `llava-v1`: LLaVA's llava_v1 conversation; `model`: the GGUF's chat template via llama-server. */
export async function renderTurn(runner: ChatPrompter, format: PromptFormat, user: string): Promise<RenderedTurn> {
  if (format === 'llava-v1') return { prompt: llavaV1Chat.render(user), answerLead: ' ' };
  const prompt = await runner.chatPrompt(user);
  return { prompt, answerLead: /\s$/.test(prompt) ? '' : ' ' };
}

/** The prompt id recorded with a result: the template and the format it was wrapped in. */
export function promptWithFormat(template: { id: string; version: number }, format: PromptFormat): { id: string; version: number } {
  return { id: `${template.id}+${format}`, version: template.version };
}

/** The item's own question (`meta.question`, e.g. MMVP's Question column), or the generic one. */
export function itemQuestion(item: Item): { text: string; source: 'item' | 'default' } {
  const q = item.meta.question;
  if (typeof q === 'string' && q.trim().length > 0) return { text: q, source: 'item' };
  return { text: MCQ_DEFAULT_QUESTION, source: 'default' };
}

/**
 * The correct option of each image: `meta.correct_per_image` when the item is an image pair with
 * one answer per image (MMVP), else `item.correct` for every image.
 */
export function correctPerImage(item: Item, images: number): number[] {
  const c = item.meta.correct_per_image;
  if (Array.isArray(c) && c.length === images && c.every((v) => Number.isInteger(v) && v >= 0 && v < item.options.length)) {
    return c as number[];
  }
  return Array.from({ length: images }, () => item.correct);
}

/** Image bytes as sent to the server: unchanged, or padded to a square with the CLIP mean colour. */
export class ImageBytes {
  private readonly padded = new Map<string, Promise<Buffer>>();
  constructor(private readonly pad: boolean) {}

  get(image: LoadedImage): Promise<Buffer> {
    if (!this.pad) return Promise.resolve(image.bytes);
    let p = this.padded.get(image.sha256);
    if (!p) {
      p = padToSquare(image.bytes);
      this.padded.set(image.sha256, p);
    }
    return p;
  }
}

/** Per-call token counts (llama-server timings) as recorded in a sample's `extra.calls`. */
export interface CallRecord {
  prompt_tokens: number;
  cached_tokens: number;
}

/** Collects the calls behind one sample: the summed timings and the per-call counts. */
export class CallLog {
  readonly timings: SampleTimings = emptyTimings();
  readonly calls: CallRecord[] = [];

  add(list: CallTimings[] | CallTimings): void {
    for (const t of Array.isArray(list) ? list : [list]) {
      this.timings.calls += 1;
      this.timings.promptTokens += t.promptTokens;
      this.timings.cachedTokens += t.cachedTokens;
      this.timings.promptMs += t.promptMs;
      this.timings.predictedMs += t.predictedMs;
      this.calls.push({ prompt_tokens: t.promptTokens, cached_tokens: t.cachedTokens });
    }
  }
}

export function notApplicable(arm: string, item: Item, why: string): PerceiveError {
  return new PerceiveError('arm-not-applicable', `arm ${arm} cannot answer item ${item.id}: ${why}`);
}
