import type { Item } from '../../../core/item.js';
import type { LoadedImage } from '../../../core/image.js';
import { mcqPrompt, mcqPromptId } from '../prompts/mcq-prompt.js';
import type { ChatPrompter, ChoiceScore, LetterScorer } from '../../capabilities.js';
import { CHOICE_SCORING_VERSION } from '../choice-scoring-version.js';
import type { ArmOutput } from '../../arm.js';
import { LlamaArm } from './llama-arm.js';
import { letterExtra, mcqTurn, type McqOptions } from './vlm-mcq-arm.js';
import { CallLog, promptWithFormat } from './vlm-prompting.js';

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
      params: { format: options.format, option_style: options.optionStyle, pad_to_square: options.padToSquare, lambda: options.lambda, choice_scoring: CHOICE_SCORING_VERSION },
      padToSquare: options.padToSquare,
    });
  }

  async score(item: Item, images: LoadedImage[]): Promise<ArmOutput> {
    const log = new CallLog();
    const withImage = await mcqTurn(this.runner, item, this.options, (text) => mcqPrompt.userTurn(text, 1));
    const alone = await mcqTurn(this.runner, item, this.options, (text) => mcqPrompt.userTurn(text, 0));
    let u = this.textOnly.get(alone.prompt + '\u0000' + alone.answers.join('\u0000'));
    let fresh = false;
    if (!u) {
      u = this.runner.choiceLogprobs(alone.prompt, [], alone.answers);
      this.textOnly.set(alone.prompt + '\u0000' + alone.answers.join('\u0000'), u);
      u.catch(() => this.textOnly.delete(alone.prompt + '\u0000' + alone.answers.join('\u0000')));
      fresh = true;
    }
    const rows: ChoiceScore[] = [];
    for (const image of images) {
      const r = await this.runner.choiceLogprobs(withImage.prompt, [await this.bytes.get(image)], withImage.answers);
      log.add(r.timings);
      rows.push(r);
    }
    const textAlone = await u;
    if (fresh) log.add(textAlone.timings);
    const lambda = this.options.lambda;
    const scores = rows.map((r) => r.logprobs.map((lc, j) => lc + lambda * (lc - textAlone.logprobs[j]!)));
    return {
      scores,
      extra: {
        lambda,
        question: withImage.question.text,
        question_source: withImage.question.source,
        logprobs_image: rows.map((r) => r.logprobs),
        logprobs_text_only: textAlone.logprobs,
        ...letterExtra(rows),
        calls: log.calls,
      },
      timings: log.timings,
    };
  }
}
