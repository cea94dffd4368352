import type { Item } from '../../../core/item.js';
import type { LoadedImage } from '../../../core/image.js';
import type { PromptFormat } from '../prompts/llava-v1-chat.js';
import { mcqPrompt, mcqPromptId, type OptionStyle } from '../prompts/mcq-prompt.js';
import type { ChatPrompter, ChoiceScore, LetterScorer } from '../../capabilities.js';
import { CHOICE_SCORING_VERSION } from '../choice-scoring-version.js';
import type { ArmOutput } from '../../arm.js';
import { LlamaArm } from './llama-arm.js';
import { relaxedPair } from '../../../core/pair-preference.js';
import { CallLog, correctPerImage, itemQuestion, promptWithFormat, renderTurn } from './vlm-prompting.js';
import { combineRounds, effectiveOptionOrder, type OptionOrder, optionPermutations, permuteOptions } from '../../../core/option-order.js';

export interface McqOptions {
  format: PromptFormat;
  optionStyle: OptionStyle;
  padToSquare: boolean;
  /** Undefined: the benchmark's default, resolved per item (`effectiveOptionOrder`). */
  optionOrder?: OptionOrder | undefined;
}

/**
 * The `option_order` entry of a letter arm's params: the config's setting, or `benchmark` when the
 * family's default decides; `taskParams` replaces it per item by the effective order (and drops it
 * for `fixed`, so fixed task hashes are those of before option orders existed).
 */
export function optionOrderParam(order: OptionOrder | undefined): OptionOrder | 'benchmark' {
  return order ?? 'benchmark';
}

/** The letter prompt of an item: its rendered turn and the answers compared (with their lead space). */
export async function mcqTurn(
  runner: LetterScorer & ChatPrompter,
  item: Item,
  options: McqOptions,
  user: (text: string) => string,
  presented: string[] = item.options,
) {
  const question = itemQuestion(item);
  const mcq = mcqPrompt.render(options.optionStyle, question.text, presented);
  const turn = await renderTurn(runner, options.format, user(mcq.text));
  return { question, prompt: turn.prompt, answers: mcq.answers.map((a) => turn.answerLead + a) };
}

/** Per-image values every letter-scoring arm records beside its scores. */
export function letterExtra(rows: ChoiceScore[]): Record<string, unknown> {
  return {
    letter_probs: rows.map((r) => r.logprobs.map((v) => Math.exp(v))),
    letter_token_ids: rows[0]?.tokenIds ?? [],
    shared_answer_prefix: rows[0]?.sharedPrefix ?? '',
    route: rows.map((r) => r.route),
    raw_logprobs: rows.map((r) => r.rawLogprobs ?? null),
  };
}

/**
 * `vlm.mcq`: the question with lettered options (MMVP's `(a) … (b) …` by default), each image in
 * its own prompt (image first); score = log P(option letter) at the answer position, renormalised
 * over the option letters (`LetterScorer.choiceLogprobs`: grammar + post-sampling probabilities).
 * On a two-image item (an MMVP pair) it also records Li et al. v1's relaxed pair result, variant
 * `single-image`.
 */
export class VlmMcqArm extends LlamaArm<LetterScorer & ChatPrompter> {
  constructor(
    model: string,
    runner: LetterScorer & ChatPrompter,
    private readonly options: McqOptions,
    id = 'vlm.mcq',
  ) {
    super(model, runner, {
      id,
      prompt: promptWithFormat(mcqPromptId(options.optionStyle), options.format),
      params: {
        format: options.format,
        option_style: options.optionStyle,
        pad_to_square: options.padToSquare,
        choice_scoring: CHOICE_SCORING_VERSION,
        option_order: optionOrderParam(options.optionOrder),
      },
      padToSquare: options.padToSquare,
    });
  }

  /**
   * One call per image and presentation (circular: per rotation), image outermost so one image's
   * calls share its cached prefix; the rounds' letter scores are mapped back to the file's order and
   * averaged (`combineRounds`).
   */
  async score(item: Item, images: LoadedImage[]): Promise<ArmOutput> {
    const log = new CallLog();
    const order = effectiveOptionOrder(this.options.optionOrder, item);
    const perms = optionPermutations(order, item);
    const turns = await Promise.all(
      perms.map((perm) => mcqTurn(this.runner, item, this.options, (text) => mcqPrompt.userTurn(text, 1), permuteOptions(item.options, perm))),
    );
    const rounds: ChoiceScore[][] = perms.map(() => []);
    for (const image of images) {
      const bytes = await this.bytes.get(image);
      for (const [r, turn] of turns.entries()) {
        const res = await this.runner.choiceLogprobs(turn.prompt, [bytes], turn.answers);
        log.add(res.timings);
        rounds[r]!.push(res);
      }
    }
    const combined = combineRounds(
      order,
      perms,
      rounds.map((rows) => rows.map((x) => x.logprobs)),
      correctPerImage(item, images.length),
    );
    const scores = combined.scores;
    const turn = turns[0]!;
    const extra: Record<string, unknown> = {
      question: turn.question.text,
      question_source: turn.question.source,
      answers: turn.answers,
      ...letterExtra(rounds[0]!),
      ...combined.extra,
      calls: log.calls,
    };
    if (images.length === 2) extra.relaxed_pair = relaxedPair(scores, correctPerImage(item, 2)[0]!, 'single-image');
    return { scores, extra, timings: log.timings };
  }
}
