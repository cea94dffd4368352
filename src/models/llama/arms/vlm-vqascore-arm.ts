import type { Item } from '../../../core/item.js';
import type { LoadedImage } from '../../../core/image.js';
import { vqascoreLlava } from '../prompts/vqascore-llava.js';
import { vqascoreChat } from '../prompts/vqascore-chat.js';
import type { PromptFormat } from '../prompts/llava-v1-chat.js';
import type { ChatPrompter, ContinuationScorer } from '../../capabilities.js';
import { CHOICE_SCORING_VERSION } from '../choice-scoring-version.js';
import { type ArmOutput, emptyTimings } from '../../arm.js';
import { LlamaArm } from './llama-arm.js';
import { promptWithFormat, renderTurn } from './vlm-prompting.js';

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
 *
 * `prompt_format: model` (any llama.cpp VLM): the same question as one user turn of the GGUF's own
 * chat template (vqascore-chat.ts), and the scored answer is "Yes" then the model's end-of-turn
 * token (`<|im_end|>`, `<end_of_turn>`, …; `ChatPrompter.endOfTurn`) where LLaVA-1.5 has `</s>`.
 * Only this format changes the prompt id (`t2v_metrics.vqascore.question+model`).
 */
export class VlmVqascoreArm extends LlamaArm<ContinuationScorer & ChatPrompter> {
  private readonly format: PromptFormat;

  constructor(model: string, runner: ContinuationScorer & ChatPrompter, options: { padToSquare: boolean; format?: PromptFormat }, id = 'vlm.vqascore') {
    const format = options.format ?? 'llava-v1';
    super(model, runner, {
      id,
      prompt: format === 'llava-v1' ? { id: vqascoreLlava.id, version: vqascoreLlava.version } : promptWithFormat(vqascoreChat, format),
      // next-token scoring evaluates the scored position alone on a cached prefix (LlamaRunner.scoringCompletion)
      params: { pad_to_square: options.padToSquare, choice_scoring: CHOICE_SCORING_VERSION },
      padToSquare: options.padToSquare,
    });
    this.format = format;
  }

  /** The scored call of one caption: context, continuation ("Yes" with its lead), the "No" beside it, the end token. */
  private async question(caption: string): Promise<{ context: string; continuation: string; negative: string; end: 'eos' | 'end-of-turn' }> {
    if (this.format === 'model') {
      const turn = await renderTurn(this.runner, 'model', vqascoreChat.userTurn(caption));
      return { context: turn.prompt, continuation: turn.answerLead + vqascoreChat.answer, negative: turn.answerLead + NEGATIVE_ANSWER, end: 'end-of-turn' };
    }
    const rendered = vqascoreLlava.render({ caption });
    const answer = rendered.answer ?? 'Yes';
    // t2v_metrics: a trailing space of the question belongs to the answer's first token.
    const endsWithSpace = rendered.text.endsWith(' ');
    return {
      context: endsWithSpace ? rendered.text.slice(0, -1) : rendered.text,
      continuation: endsWithSpace ? ` ${answer}` : answer,
      negative: endsWithSpace ? ` ${NEGATIVE_ANSWER}` : NEGATIVE_ANSWER,
      end: 'eos',
    };
  }

  async score(item: Item, images: LoadedImage[]): Promise<ArmOutput> {
    const timings = emptyTimings();
    const scores: number[][] = [];
    const pYes: number[][] = [];
    const pNo: number[][] = [];
    const pEos: number[][] = [];
    const answerLogprobs: number[][][] = [];
    const tokenIds: number[][][] = [];
    for (const image of images) {
      const bytes = await this.bytes.get(image);
      const row: number[] = [];
      const yesRow: number[] = [];
      const noRow: number[] = [];
      const eosRow: number[] = [];
      const lpRow: number[][] = [];
      const idRow: number[][] = [];
      for (const caption of item.options) {
        const q = await this.question(caption);
        const result = await this.runner.scoreContinuation(q.context, [bytes], q.continuation, { end: q.end, alternatives: [q.negative] });
        idRow.push(result.tokenIds);
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
      tokenIds.push(idRow);
    }
    // answer_logprobs[image][option] = the log-probabilities the score is the geometric mean of
    // (▁Yes, then </s>), as llama-server returned them. Under `model` the end token is the model's
    // end-of-turn (p_eos is its probability), recorded with the scored token ids.
    const extra: Record<string, unknown> = { p_yes: pYes, p_no: pNo, p_eos: pEos, answer_logprobs: answerLogprobs };
    if (this.format === 'model') {
      extra.end_of_turn = await this.runner.endOfTurn();
      extra.answer_token_ids = tokenIds;
    }
    return { scores, extra, timings };
  }
}
