import type { Item } from '../../../core/item.js';
import type { LoadedImage } from '../../../core/image.js';
import { mcqPrompt, mcqPromptId } from '../prompts/mcq-prompt.js';
import type { ChatPrompter, ChoiceScore, LetterScorer } from '../../capabilities.js';
import { CHOICE_SCORING_VERSION } from '../choice-scoring-version.js';
import type { ArmOutput } from '../../arm.js';
import { LlamaArm } from './llama-arm.js';
import { letterExtra, mcqTurn, type McqOptions, optionOrderParam } from './vlm-mcq-arm.js';
import { CallLog, correctPerImage, promptWithFormat } from './vlm-prompting.js';
import { combineRounds, effectiveOptionOrder, optionPermutations, permuteOptions } from '../../../core/option-order.js';

/**
 * `vlm.contrast`: an image-vs-no-image contrast in the spirit of M3ID (Favero et al., CVPR 2024),
 * on the `vlm.mcq` prompt. With ℓ_c = log p(letter | image, text) and ℓ_u = log p(letter | text
 * alone) (the same prompt with the image and its newline removed), both renormalised over the
 * option letters:
 *
 *     score = ℓ_c + λ · (ℓ_c − ℓ_u)
 *
 * M3ID's form with a constant weight λ (M3ID grows its weight with the generated-token index and
 * applies it only below a confidence threshold γ; one answer token has index 1, so a constant is
 * what is left). λ = 0 reproduces `vlm.mcq` exactly. The text-alone pass does not depend on the
 * image, so it is computed once per prompt and reused.
 */
export class VlmContrastArm extends LlamaArm<LetterScorer & ChatPrompter> {
  private readonly textOnly = new Map<string, Promise<ChoiceScore>>();

  constructor(
    model: string,
    runner: LetterScorer & ChatPrompter,
    private readonly options: McqOptions & { lambda: number },
    id = 'vlm.contrast',
  ) {
    super(model, runner, {
      id,
      prompt: promptWithFormat(mcqPromptId(options.optionStyle), options.format),
      params: {
        format: options.format,
        option_style: options.optionStyle,
        pad_to_square: options.padToSquare,
        lambda: options.lambda,
        choice_scoring: CHOICE_SCORING_VERSION,
        option_order: optionOrderParam(options.optionOrder),
      },
      padToSquare: options.padToSquare,
    });
  }

  /** The text-alone letter scores of a prompt, computed once per prompt; `fresh` when this call made it. */
  private textAlone(prompt: string, answers: string[]): { result: Promise<ChoiceScore>; fresh: boolean } {
    const key = prompt + '\u0000' + answers.join('\u0000');
    const known = this.textOnly.get(key);
    if (known) return { result: known, fresh: false };
    const result = this.runner.choiceLogprobs(prompt, [], answers);
    this.textOnly.set(key, result);
    result.catch(() => this.textOnly.delete(key));
    return { result, fresh: true };
  }

  /** Per presentation (circular: per rotation) the contrast in presented order, then mapped back to the file's order and averaged. */
  async score(item: Item, images: LoadedImage[]): Promise<ArmOutput> {
    const log = new CallLog();
    const order = effectiveOptionOrder(this.options.optionOrder, item);
    const perms = optionPermutations(order, item);
    const presented = perms.map((perm) => permuteOptions(item.options, perm));
    const withImage = await Promise.all(presented.map((opts) => mcqTurn(this.runner, item, this.options, (text) => mcqPrompt.userTurn(text, 1), opts)));
    const alone = await Promise.all(presented.map((opts) => mcqTurn(this.runner, item, this.options, (text) => mcqPrompt.userTurn(text, 0), opts)));
    const pending = alone.map((a) => this.textAlone(a.prompt, a.answers));
    const rounds: ChoiceScore[][] = perms.map(() => []);
    for (const image of images) {
      const bytes = await this.bytes.get(image);
      for (const [r, turn] of withImage.entries()) {
        const res = await this.runner.choiceLogprobs(turn.prompt, [bytes], turn.answers);
        log.add(res.timings);
        rounds[r]!.push(res);
      }
    }
    const textAlone: ChoiceScore[] = [];
    for (const p of pending) {
      const t = await p.result;
      if (p.fresh) log.add(t.timings);
      textAlone.push(t);
    }
    const lambda = this.options.lambda;
    const contrast = rounds.map((rows, r) => rows.map((row) => row.logprobs.map((lc, j) => lc + lambda * (lc - textAlone[r]!.logprobs[j]!))));
    const combined = combineRounds(order, perms, contrast, correctPerImage(item, images.length));
    return {
      scores: combined.scores,
      extra: {
        lambda,
        question: withImage[0]!.question.text,
        question_source: withImage[0]!.question.source,
        logprobs_image: rounds[0]!.map((r) => r.logprobs),
        logprobs_text_only: textAlone[0]!.logprobs,
        ...letterExtra(rounds[0]!),
        ...combined.extra,
        calls: log.calls,
      },
      timings: log.timings,
    };
  }
}
