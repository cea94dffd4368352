import type { Item } from '../../../core/item.js';
import type { LoadedImage } from '../../../core/image.js';
import { vqascoreLlava } from '../prompts/vqascore-llava.js';
import type { ContinuationScorer } from '../../capabilities.js';
import { CHOICE_SCORING_VERSION } from '../choice-scoring-version.js';
import { type ArmOutput, emptyTimings } from '../../arm.js';
import { LlamaArm } from './llama-arm.js';

/** The answer whose probability VQAScore reports beside "Yes" (recorded, not part of the score). */
const NEGATIVE_ANSWER = 'No';

/**
 * `vlm.vqascore`: VQAScore exactly as t2v_metrics computes it for LLaVA-1.5
 * (linzhiqiu/t2v_metrics@74c7208^:t2v_metrics/models/vqascore_models/llava_model.py, `forward`):
 *
 * - the prompt is `vqascoreLlava` (hand-built, trailing space after "ASSISTANT:");
 * - the image is padded to a square with the CLIP mean colour (`expand2square`, image_aspect_ratio 'pad');
 * - the scored sequence is question + "Yes" + "</s>"; labels mask the question's tokens, minus one
 *   when the question ends with a space (SentencePiece merges that space into "▁Yes");
 * - score = exp(-mean cross-entropy of the label tokens) = the geometric mean of
 *   P(▁Yes | question) and P(</s> | question, ▁Yes).
 *
 * llama-server returns next-token log-probabilities, so the sequence is scored token by token: one
 * call per answer token plus one for </s>; each call reuses the cached image prefix. The answer's
 * token ids are found by tokenizing the text after the image with and without the answer and
 * checking that the first is a prefix of the second; a tokenizer that breaks this fails loudly.
 */
export class VlmVqascoreArm extends LlamaArm<ContinuationScorer> {
  constructor(model: string, runner: ContinuationScorer, options: { padToSquare: boolean }) {
    super(model, runner, {
      id: 'vlm.vqascore',
      prompt: { id: vqascoreLlava.id, version: vqascoreLlava.version },
      // next-token scoring evaluates the scored position alone on a cached prefix (LlamaRunner.scoringCompletion)
      params: { pad_to_square: options.padToSquare, choice_scoring: CHOICE_SCORING_VERSION },
      padToSquare: options.padToSquare,
    });
  }

  async score(item: Item, images: LoadedImage[]): Promise<ArmOutput> {
    const timings = emptyTimings();
    const scores: number[][] = [];
    const pYes: number[][] = [];
    const pNo: number[][] = [];
    const pEos: number[][] = [];
    const answerLogprobs: number[][][] = [];
    for (const image of images) {
      const bytes = await this.bytes.get(image);
      const row: number[] = [];
      const yesRow: number[] = [];
      const noRow: number[] = [];
      const eosRow: number[] = [];
      const lpRow: number[][] = [];
      for (const caption of item.options) {
        const rendered = vqascoreLlava.render({ caption });
        const answer = rendered.answer ?? 'Yes';
        // t2v_metrics: a trailing space of the question belongs to the answer's first token.
        const endsWithSpace = rendered.text.endsWith(' ');
        const context = endsWithSpace ? rendered.text.slice(0, -1) : rendered.text;
        const continuation = endsWithSpace ? ` ${answer}` : answer;
        const negative = endsWithSpace ? ` ${NEGATIVE_ANSWER}` : NEGATIVE_ANSWER;
        const result = await this.runner.scoreContinuation(context, [bytes], continuation, {
          appendEos: true,
          alternatives: [negative],
        });
        for (const t of result.timings) {
          timings.calls += 1;
          timings.promptTokens += t.promptTokens;
          timings.cachedTokens += t.cachedTokens;
          timings.promptMs += t.promptMs;
          timings.predictedMs += t.predictedMs;
        }
        const lps = result.tokenLogprobs; // answer tokens, then </s>
        const mean = lps.reduce((a, b) => a + b, 0) / lps.length;
        row.push(Math.exp(mean));
        yesRow.push(Math.exp(lps[0]!));
        eosRow.push(Math.exp(lps[lps.length - 1]!));
        noRow.push(Math.exp(result.alternativeLogprobs[0]!));
        lpRow.push(lps);
      }
      scores.push(row);
      pYes.push(yesRow);
      pNo.push(noRow);
      pEos.push(eosRow);
      answerLogprobs.push(lpRow);
    }
    // answer_logprobs[image][option] = the log-probabilities the score is the geometric mean of
    // (▁Yes, then </s>), as llama-server returned them.
    return { scores, extra: { p_yes: pYes, p_no: pNo, p_eos: pEos, answer_logprobs: answerLogprobs }, timings };
  }
}
