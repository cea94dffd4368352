import { PerceiveError } from '../../../core/errors.js';
import type { Item } from '../../../core/item.js';
import type { LoadedImage } from '../../../core/image.js';
import { renderVlm2Vec, vlm2vecUsesQuestion, type Vlm2VecVariant } from '../prompts/vlm2vec-prompt.js';
import type { PromptFormat } from '../prompts/llava-v1-chat.js';
import type { ChatPrompter, Embedder } from '../../capabilities.js';
import type { ArmOutput } from '../../arm.js';
import { LlamaArm } from './llama-arm.js';
import { promptWithFormat } from './vlm-prompting.js';

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/**
 * `vlm2vec.question` / `vlm2vec.plain` (and any prompt variant a config adds): LLaVA as an
 * embedder, as Li, Koh & Du evaluate LLaVA-1.5-7B-VLM2Vec (lst627/CLIP-Embeds VLM2Vec/eval_llava15.py):
 * the image side is the last-token embedding (llama-server `--pooling last`) of the variant's
 * prompt with the image, the text side the last-token embedding of the raw caption; both are
 * L2-normalised and the score is their cosine. No chat template: the prompts are raw strings, so
 * any GGUF runs (the VLM2Vec LoRA-merged LLaVA or a base LLaVA).
 * `prompt_format: model` wraps each side (the image prompt, the caption) in one user turn of the
 * GGUF's chat template, generation prompt appended (prompt id `vlm2vec.<name>+model`).
 *
 * The question (variants with `{question}`) is `item.meta.vlm2vec_question` (What'sUp: Li et al.'s
 * `Is the {obj1} to the left of or to the right of the {obj2}?` and siblings), else
 * `item.meta.question` (MMVP's own question); an item with neither fails with that reason.
 */
export class Vlm2VecArm extends LlamaArm<Embedder & ChatPrompter> {
  private readonly texts = new Map<string, Promise<Float32Array>>();

  constructor(
    model: string,
    runner: Embedder & ChatPrompter,
    private readonly variant: Vlm2VecVariant,
    options: { padToSquare: boolean; format?: PromptFormat },
    id = `vlm2vec.${variant.name}`,
  ) {
    const format = options.format ?? 'llava-v1';
    const prompt = { id: `vlm2vec.${variant.name}`, version: variant.version };
    super(model, runner, {
      id,
      prompt: format === 'llava-v1' ? prompt : promptWithFormat(prompt, format),
      params: { template: variant.template, pad_to_square: options.padToSquare },
      padToSquare: options.padToSquare,
    });
    this.format = format;
  }

  private readonly format: PromptFormat;

  /** A raw prompt as embedded: unchanged, or one user turn of the model's chat template. */
  private wrap(text: string): Promise<string> {
    return this.format === 'model' ? this.runner.chatPrompt(text) : Promise.resolve(text);
  }

  private question(item: Item): { text: string; source: string } | undefined {
    if (!vlm2vecUsesQuestion(this.variant)) return undefined;
    for (const key of ['vlm2vec_question', 'question'] as const) {
      const q = item.meta[key];
      if (typeof q === 'string' && q.trim().length > 0) return { text: q, source: `meta.${key}` };
    }
    const why = typeof item.meta.question_missing === 'string' ? ` (${item.meta.question_missing})` : '';
    throw new PerceiveError('missing-question', `item ${item.id} has no meta.vlm2vec_question or meta.question for prompt variant ${this.variant.name}${why}`, {
      hint: `use vlm2vec.plain, or a benchmark whose loader sets the question`,
    });
  }

  /** Raw-caption embeddings, once per caption. */
  private text(caption: string): Promise<Float32Array> {
    let e = this.texts.get(caption);
    if (!e) {
      e = this.wrap(caption)
        .then((prompt) => this.runner.embed([{ prompt, images: [] }]))
        .then((r) => r[0]!);
      this.texts.set(caption, e);
      e.catch(() => this.texts.delete(caption));
    }
    return e;
  }

  async score(item: Item, images: LoadedImage[]): Promise<ArmOutput> {
    const question = this.question(item);
    const prompt = await this.wrap(renderVlm2Vec(this.variant, question?.text));
    const imageEmbeds = await this.runner.embed(await Promise.all(images.map(async (i) => ({ prompt, images: [await this.bytes.get(i)] }))));
    const textEmbeds = await Promise.all(item.options.map((o) => this.text(o)));
    const scores = imageEmbeds.map((v) => textEmbeds.map((t) => dot(v, t)));
    const extra: Record<string, unknown> = { image_prompt: prompt, question: question?.text ?? null, question_source: question?.source ?? null };
    if (imageEmbeds.length === 2) extra.image_pair_cosine = dot(imageEmbeds[0]!, imageEmbeds[1]!);
    // /embeddings reports no timings: the sample's timings stay null
    return { scores, extra };
  }
}
