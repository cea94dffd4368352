import type { LoadedImage } from '../../../core/image.js';
import type { Item } from '../../../core/item.js';
import { probeExtra, type ProbeSettings } from '../../../core/probe-features.js';
import type { ArmOutput } from '../../arm.js';
import type { ChatPrompter, Embedder } from '../../capabilities.js';
import type { PromptFormat } from '../prompts/llava-v1-chat.js';
import { renderVlm2Vec, VLM2VEC_PLAIN } from '../prompts/vlm2vec-prompt.js';
import { LlamaArm } from './llama-arm.js';
import { promptWithFormat } from './vlm-prompting.js';

/**
 * `vlm2vec.probe`: the linear probe on the VLM's VLM2Vec image-only embedding: the last-token
 * embedding (llama-server `--pooling last`, L2-normalised) of VLM2Vec's plain image prompt
 * (`<image> Represent the given image.`, as `vlm2vec.plain`) with the image, no text of the item.
 * Like `probe` on CLIP it records one embedding per image; the report fits the cross-validated
 * probe (src/analysis/probe.ts) and replaces the zero placeholder scores.
 */
export class Vlm2VecProbeArm extends LlamaArm<Embedder & ChatPrompter> {
  constructor(
    model: string,
    runner: Embedder & ChatPrompter,
    private readonly settings: ProbeSettings,
    options: { padToSquare: boolean; format: PromptFormat },
    id: string,
  ) {
    const prompt = { id: 'vlm2vec.plain', version: VLM2VEC_PLAIN.version };
    super(model, runner, {
      id,
      prompt: options.format === 'llava-v1' ? prompt : promptWithFormat(prompt, options.format),
      params: { ...settings, template: VLM2VEC_PLAIN.template, pad_to_square: options.padToSquare },
      padToSquare: options.padToSquare,
    });
    this.format = options.format;
  }

  private readonly format: PromptFormat;

  async score(item: Item, images: LoadedImage[]): Promise<ArmOutput> {
    const raw = renderVlm2Vec(VLM2VEC_PLAIN, undefined);
    const prompt = this.format === 'model' ? await this.runner.chatPrompt(raw) : raw;
    const embeddings = await this.runner.embed(await Promise.all(images.map(async (i) => ({ prompt, images: [await this.bytes.get(i)] }))));
    return { scores: images.map(() => item.options.map(() => 0)), extra: { ...probeExtra(embeddings, this.settings), image_prompt: prompt } };
  }
}
