import type { Item } from '../../../core/item.js';
import type { LoadedImage } from '../../../core/image.js';
import { mcqPromptId } from '../prompts/mcq-prompt.js';
import { twoImagePrompt } from '../prompts/two-image-prompt.js';
import type { ChatPrompter, ChoiceScore, LetterScorer } from '../../capabilities.js';
import { CHOICE_SCORING_VERSION } from '../choice-scoring-version.js';
import type { ArmOutput } from '../../arm.js';
import { ItemPairs } from '../../../core/item-pairs.js';
import { LlamaArm } from './llama-arm.js';
import { relaxedPair } from '../../../core/pair-preference.js';
import { letterExtra, mcqTurn, type McqOptions, optionOrderParam } from './vlm-mcq-arm.js';
import { combineRounds, effectiveOptionOrder, optionPermutations, permuteOptions } from '../../../core/option-order.js';
import { CallLog, correctPerImage, notApplicable, promptWithFormat } from './vlm-prompting.js';

/**
 * `vlm.two-image`: both images of a pair in one prompt, image 1 then image 2, then the lettered
 * question asked about one image (the prompts of a pair share the cached two-image prefix).
 *
 * - An item holding both images (2 × options): row i asks the item's question about image i.
 * - A single-image item of a pair (MMVP: consecutive Questions.csv rows; What'sUp: `groups.pair`;
 *   see item-pairs.ts): the prompt holds its pair's two images in pair order and asks the item's own
 *   question about the item's own image (1 × options). The partner must be among the items given
 *   to `prepare` (the same bundle); otherwise the item is not applicable (a failed sample).
 *
 * Li et al. v1's relaxed pair result (variant `two-image`) is recorded once per pair (on the item
 * holding both images, or on image 1's item): image 1's question asked about image 1 and about
 * image 2, image 1's correct option compared. Every
 * distinct call is made once per arm (memoised), so the pair's two items share their calls.
 */
export class VlmTwoImageArm extends LlamaArm<LetterScorer & ChatPrompter> {
  private readonly pairs = new ItemPairs();
  /** item id → its pair partner's image, loaded in the prepare() of its bundle (bundles may run concurrently). */
  private readonly partnerImages = new Map<string, Promise<LoadedImage>>();
  private readonly memo = new Map<string, Promise<ChoiceScore>>();

  constructor(
    model: string,
    runner: LetterScorer & ChatPrompter,
    private readonly options: McqOptions,
    id = 'vlm.two-image',
  ) {
    super(model, runner, {
      id,
      prompt: promptWithFormat({ id: `${twoImagePrompt.id}.${mcqPromptId(options.optionStyle).id}`, version: twoImagePrompt.version }, options.format),
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

  async prepare(items: Item[], images: (file: string) => Promise<LoadedImage>): Promise<void> {
    this.pairs.add(items);
    for (const item of items) {
      const found = this.pairs.of(item);
      if (!found || item.images.length !== 1) continue;
      const partner = images(found.partner.images[0]!);
      partner.catch(() => undefined); // a broken partner image fails this item in score()
      this.partnerImages.set(item.id, partner);
    }
  }

  /** The question of `asked` (options presented under `perm`) about image `target` of `pair`, both images in the prompt; once per arm. */
  private async row(
    asked: Item,
    pair: LoadedImage[],
    target: number,
    log: CallLog,
    perm: number[] = asked.options.map((_, k) => k),
  ): Promise<{ score: ChoiceScore; question: { text: string; source: string } }> {
    const turn = await mcqTurn(
      this.runner,
      asked,
      this.options,
      (text) => twoImagePrompt.userTurn(pair.length, target, text),
      permuteOptions(asked.options, perm),
    );
    const key = JSON.stringify([turn.prompt, turn.answers, pair.map((i) => i.sha256)]);
    let p = this.memo.get(key);
    if (!p) {
      const bytes = await Promise.all(pair.map((i) => this.bytes.get(i)));
      p = this.runner.choiceLogprobs(turn.prompt, bytes, turn.answers);
      this.memo.set(key, p);
      p.catch(() => this.memo.delete(key));
      log.add((await p).timings);
    }
    return { score: await p, question: turn.question };
  }

  /**
   * The rows of `asked` about each image in `targets`, under every presentation of its options
   * (circular: every rotation; image-major so a target's calls follow each other), mapped back to
   * the file's order and combined (`combineRounds`).
   */
  private async rows(asked: Item, pair: LoadedImage[], targets: number[], log: CallLog, correct: number[]) {
    const order = effectiveOptionOrder(this.options.optionOrder, asked);
    const perms = optionPermutations(order, asked);
    const rounds: ChoiceScore[][] = perms.map(() => []);
    let question: { text: string; source: string } | undefined;
    for (const target of targets) {
      for (const [r, perm] of perms.entries()) {
        const got = await this.row(asked, pair, target, log, perm);
        question ??= got.question;
        rounds[r]!.push(got.score);
      }
    }
    const combined = combineRounds(
      order,
      perms,
      rounds.map((rows) => rows.map((x) => x.logprobs)),
      correct,
    );
    return { scores: combined.scores, extra: combined.extra, first: rounds[0]!, question: question! };
  }

  async score(item: Item, images: LoadedImage[]): Promise<ArmOutput> {
    const log = new CallLog();
    if (images.length === 2) {
      const got = await this.rows(item, images, [0, 1], log, correctPerImage(item, 2));
      return {
        scores: got.scores,
        extra: {
          question: got.question.text,
          question_source: got.question.source,
          ...letterExtra(got.first),
          ...got.extra,
          relaxed_pair: relaxedPair(got.scores, correctPerImage(item, 2)[0]!, 'two-image'),
          calls: log.calls,
        },
        timings: log.timings,
      };
    }
    const found = this.pairs.of(item);
    const partnerLoad = this.partnerImages.get(item.id);
    if (images.length !== 1 || !found || !partnerLoad) {
      throw notApplicable(this.id, item, 'it needs an image pair: two images, or a partner item with the same groups.pair in the same bundle');
    }
    const partnerImage = await partnerLoad;
    const pairImages = found.position === 0 ? [images[0]!, partnerImage] : [partnerImage, images[0]!];
    const own = await this.rows(item, pairImages, [found.position], log, [item.correct]);
    const extra: Record<string, unknown> = {
      question: own.question.text,
      question_source: own.question.source,
      ...letterExtra(own.first),
      ...own.extra,
      pair_partner: found.partner.id,
      pair_position: found.position,
    };
    // The pair's relaxed result is recorded once, on image 1's item.
    if (found.position === 0) {
      const both = await this.rows(item, pairImages, [0, 1], log, [item.correct, item.correct]);
      extra.relaxed_pair = relaxedPair(both.scores, item.correct, 'two-image');
    }
    extra.calls = log.calls;
    return { scores: own.scores, extra, timings: log.timings };
  }
}
