import type { Item } from '../../../core/item.js';
import type { LoadedImage } from '../../../core/image.js';
import { generatePrompt } from '../prompts/generate-prompt.js';
import type { PromptFormat } from '../prompts/llava-v1-chat.js';
import type { ChatPrompter, Generator } from '../../capabilities.js';
import type { ArmOutput } from '../../arm.js';
import { ANSWER_PARSER, parseAnswer } from './answer-parser.js';
import { LlamaArm } from './llama-arm.js';
import { CallLog, correctPerImage, itemQuestion, promptWithFormat, renderTurn } from './vlm-prompting.js';

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
    private readonly options: { format: PromptFormat; maxTokens: number; padToSquare: boolean },
    id = 'vlm.generate',
  ) {
    super(model, runner, {
      id,
      prompt: promptWithFormat(generatePrompt, options.format),
      params: { format: options.format, max_tokens: options.maxTokens, pad_to_square: options.padToSquare, parser: ANSWER_PARSER },
      padToSquare: options.padToSquare,
    });
  }

  async score(item: Item, images: LoadedImage[]): Promise<ArmOutput> {
    const log = new CallLog();
    const question = itemQuestion(item);
    const turn = await renderTurn(this.runner, this.options.format, generatePrompt.userTurn(question.text, item.options));
    const correct = correctPerImage(item, images.length);
    const answers: string[] = [];
    const parsed: Array<number | null> = [];
    const rules: string[] = [];
    const scores: number[][] = [];
    for (const [i, image] of images.entries()) {
      const g = await this.runner.generate(turn.prompt, [await this.bytes.get(image)], { maxTokens: this.options.maxTokens });
      log.add(g.timings);
      const p = parseAnswer(g.text, item.options);
      answers.push(g.text);
      parsed.push(p.option);
      rules.push(p.rule);
      scores.push(
        item.options.map((_, j) =>
          p.option === null ? (j === correct[i] ? UNPARSEABLE_CORRECT_SCORE : 0) : j === p.option ? PARSED_SCORE : 0,
        ),
      );
    }
    return {
      scores,
      extra: {
        question: question.text,
        question_source: question.source,
        answers,
        parsed,
        parse_rule: rules,
        parser: ANSWER_PARSER,
        unparseable: parsed.map((p) => p === null),
        calls: log.calls,
      },
      timings: log.timings,
    };
  }
}
