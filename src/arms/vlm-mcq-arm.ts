import type { Item } from '../items/item.js';
import type { LoadedImage } from '../items/image.js';
import type { PromptFormat } from '../prompts/llava-v1-chat.js';
import { mcqPrompt, mcqPromptId, type OptionStyle } from '../prompts/mcq-prompt.js';
import { CHOICE_SCORING_VERSION, type ChoiceScore, type LlamaRunner } from '../runners/llama/llama-runner.js';
import type { ArmOutput } from './arm.js';
import { LlamaArm } from './llama-arm.js';
import { relaxedPair } from '../analysis/pair-preference.js';
import { CallLog, correctPerImage, itemQuestion, promptWithFormat, renderTurn } from './vlm-prompting.js';

export interface McqOptions {
  format: PromptFormat;
  optionStyle: OptionStyle;
  padToSquare: boolean;
}

/** The letter prompt of an item: its rendered turn and the answers compared (with their lead space). */
export async function mcqTurn(runner: LlamaRunner, item: Item, options: McqOptions, user: (text: string) => string) {
  const question = itemQuestion(item);
  const mcq = mcqPrompt.render(options.optionStyle, question.text, item.options);
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
 * over the option letters (`LlamaRunner.choiceLogprobs`: grammar + post-sampling probabilities).
 * On a two-image item (an MMVP pair) it also records Li et al. v1's relaxed pair result, variant
 * `single-image`.
 */
export class VlmMcqArm extends LlamaArm {
  constructor(
    model: string,
    runner: LlamaRunner,
    private readonly options: McqOptions,
    id = 'vlm.mcq',
  ) {
    super(model, runner, {
      id,
      prompt: promptWithFormat(mcqPromptId(options.optionStyle), options.format),
      params: { format: options.format, option_style: options.optionStyle, pad_to_square: options.padToSquare, choice_scoring: CHOICE_SCORING_VERSION },
      padToSquare: options.padToSquare,
    });
  }

  async score(item: Item, images: LoadedImage[]): Promise<ArmOutput> {
    const log = new CallLog();
    const turn = await mcqTurn(this.runner, item, this.options, (text) => mcqPrompt.userTurn(text, 1));
    const rows: ChoiceScore[] = [];
    for (const image of images) {
      const r = await this.runner.choiceLogprobs(turn.prompt, [await this.bytes.get(image)], turn.answers);
      log.add(r.timings);
      rows.push(r);
    }
    const scores = rows.map((r) => r.logprobs);
    const extra: Record<string, unknown> = {
      question: turn.question.text,
      question_source: turn.question.source,
      answers: turn.answers,
      ...letterExtra(rows),
      calls: log.calls,
    };
    if (images.length === 2) extra.relaxed_pair = relaxedPair(scores, correctPerImage(item, 2)[0]!, 'single-image');
    return { scores, extra, timings: log.timings };
  }
}
