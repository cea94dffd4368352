import type { Item } from '../../../core/item.js';
import type { LoadedImage } from '../../../core/image.js';
import { generatePrompt } from '../prompts/generate-prompt.js';
import type { PromptFormat } from '../prompts/llava-v1-chat.js';
import type { ChatPrompter, Generator } from '../../capabilities.js';
import type { ArmOutput } from '../../arm.js';
import { ANSWER_PARSER, parseAnswer } from './answer-parser.js';
import { LlamaArm } from './llama-arm.js';
import { CallLog, correctPerImage, itemQuestion, promptWithFormat, renderTurn } from './vlm-prompting.js';
import { combineRounds, effectiveOptionOrder, type OptionOrder, optionPermutations, permuteOptions } from '../../../core/option-order.js';
import { optionOrderParam } from './vlm-mcq-arm.js';

/** Score of the parsed option; every other option gets 0. */
export const PARSED_SCORE = 1;
/** Score the correct option gets when the answer is unparseable (every other option gets 0). */
export const UNPARSEABLE_CORRECT_SCORE = -1;

/**
 * `vlm.generate`: a greedy free answer (at most `maxTokens` tokens) to MMVP's own prompt (question
 * and `(a) … (b) …` options), mapped to an option by the rule-based parser (answer-parser.ts).
 *
 * Scores, one row per image: the parsed option 1, the others 0. An unparseable answer gets a row
 * that every argmax metric counts wrong: the correct option −1, the others 0 (the row carries no
 * preference between the wrong options). It is never dropped and never counted right; it is
 * flagged in `extra.unparseable[image]` and counted in the report from there.
 */
export class VlmGenerateArm extends LlamaArm<Generator & ChatPrompter> {
  constructor(
    model: string,
    runner: Generator & ChatPrompter,
    private readonly options: { format: PromptFormat; maxTokens: number; padToSquare: boolean; optionOrder?: OptionOrder | undefined },
    id = 'vlm.generate',
  ) {
    super(model, runner, {
      id,
      prompt: promptWithFormat(generatePrompt, options.format),
      params: {
        format: options.format,
        max_tokens: options.maxTokens,
        pad_to_square: options.padToSquare,
        parser: ANSWER_PARSER,
        option_order: optionOrderParam(options.optionOrder),
      },
      padToSquare: options.padToSquare,
    });
  }

  /**
   * One greedy answer per image and presentation (circular: per rotation; image outermost), parsed
   * against the options as presented and mapped back to the file's order. Under several
   * presentations the row is the mean of the rounds' rows (the share of rounds that picked each
   * option, the correct option lowered by the share of unparseable rounds), so an unparseable
   * round never counts right.
   */
  async score(item: Item, images: LoadedImage[]): Promise<ArmOutput> {
    const log = new CallLog();
    const question = itemQuestion(item);
    const order = effectiveOptionOrder(this.options.optionOrder, item);
    const perms = optionPermutations(order, item);
    const presented = perms.map((perm) => permuteOptions(item.options, perm));
    const turns = await Promise.all(presented.map((opts) => renderTurn(this.runner, this.options.format, generatePrompt.userTurn(question.text, opts))));
    const correct = correctPerImage(item, images.length);
    const answers: string[] = [];
    const parsed: Array<number | null> = [];
    const rules: string[] = [];
    const rounds: number[][][] = perms.map(() => []);
    const unparsedRounds: boolean[][] = perms.map(() => []);
    const roundAnswers: string[][] = perms.map(() => []);
    for (const [i, image] of images.entries()) {
      const bytes = await this.bytes.get(image);
      for (const [r, perm] of perms.entries()) {
        const g = await this.runner.generate(turns[r]!.prompt, [bytes], { maxTokens: this.options.maxTokens });
        log.add(g.timings);
        const p = parseAnswer(g.text, presented[r]!);
        const shownCorrect = perm.indexOf(correct[i]!);
        rounds[r]!.push(
          presented[r]!.map((_, j) => (p.option === null ? (j === shownCorrect ? UNPARSEABLE_CORRECT_SCORE : 0) : j === p.option ? PARSED_SCORE : 0)),
        );
        unparsedRounds[r]!.push(p.option === null);
        roundAnswers[r]!.push(g.text);
        if (r === 0) {
          answers.push(g.text);
          parsed.push(p.option === null ? null : perm[p.option]!);
          rules.push(p.rule);
        }
      }
    }
    const combined = combineRounds(order, perms, rounds, correct);
    // An unparseable round picked no letter.
    combined.extra.position_picks = combined.extra.position_picks.map((row, r) => row.map((pos, i) => (unparsedRounds[r]![i] ? -1 : pos)));
    const extra: Record<string, unknown> = {
      question: question.text,
      question_source: question.source,
      answers,
      parsed,
      parse_rule: rules,
      parser: ANSWER_PARSER,
      unparseable: parsed.map((p) => p === null),
      ...combined.extra,
      calls: log.calls,
    };
    if (perms.length > 1) Object.assign(extra, { round_answers: roundAnswers, round_unparseable: unparsedRounds });
    return { scores: combined.scores, extra, timings: log.timings };
  }
}
