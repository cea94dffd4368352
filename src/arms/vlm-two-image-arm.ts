import type { Item } from '../items/item.js';
import type { LoadedImage } from '../items/image.js';
import { mcqPromptId } from '../prompts/mcq-prompt.js';
import { twoImagePrompt } from '../prompts/two-image-prompt.js';
import type { ChoiceScore, LlamaRunner } from '../runners/llama/llama-runner.js';
import type { Arm, ArmOutput } from './arm.js';
import { relaxedPair } from './pair-preference.js';
import { letterExtra, mcqTurn, type McqOptions } from './vlm-mcq-arm.js';
import { CallLog, correctPerImage, ImageBytes, notApplicable, promptWithFormat } from './vlm-prompting.js';

/**
 * `vlm.two-image`: both images of a pair (an MMVP pair) in one prompt, image 1 then image 2, then
 * the lettered question asked about each image in turn (two calls sharing the cached two-image
 * prefix). Row i of the 2 × options matrix is the renormalised option-letter log-probability when
 * the question is about image i. Also records Li et al. v1's relaxed pair result, variant
 * `two-image`. An item with one image is not applicable (a failed sample with that reason).
 */
export class VlmTwoImageArm implements Arm {
  readonly id: string;
  readonly prompt: { id: string; version: number };
  readonly params: Record<string, unknown>;
  private readonly bytes: ImageBytes;

  constructor(
    readonly model: string,
    private readonly runner: LlamaRunner,
    private readonly options: McqOptions,
    id = 'vlm.two-image',
  ) {
    this.id = id;
    const mcq = mcqPromptId(options.optionStyle);
    this.prompt = promptWithFormat({ id: `${twoImagePrompt.id}.${mcq.id}`, version: twoImagePrompt.version }, options.format);
    this.params = { format: options.format, option_style: options.optionStyle, pad_to_square: options.padToSquare };
    this.bytes = new ImageBytes(options.padToSquare);
  }

  get modelHash(): string {
    return this.runner.modelHash;
  }

  async score(item: Item, images: LoadedImage[]): Promise<ArmOutput> {
    if (images.length !== 2) throw notApplicable(this.id, item, `it needs an image pair, the item has ${images.length} image(s)`);
    const log = new CallLog();
    const bytes = await Promise.all(images.map((i) => this.bytes.get(i)));
    const rows: ChoiceScore[] = [];
    let question: { text: string; source: string } | undefined;
    for (let k = 0; k < images.length; k++) {
      const turn = await mcqTurn(this.runner, item, this.options, (text) => twoImagePrompt.userTurn(images.length, k, text));
      question = turn.question;
      const r = await this.runner.choiceLogprobs(turn.prompt, bytes, turn.answers);
      log.add(r.timings);
      rows.push(r);
    }
    const scores = rows.map((r) => r.logprobs);
    return {
      scores,
      extra: {
        question: question!.text,
        question_source: question!.source,
        ...letterExtra(rows),
        relaxed_pair: relaxedPair(scores, correctPerImage(item, 2)[0]!, 'two-image'),
        calls: log.calls,
      },
      timings: log.timings,
    };
  }
}
