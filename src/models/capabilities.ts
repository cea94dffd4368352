/**
 * What a started model can do, as small interfaces: arms depend on these, never on a concrete
 * runner class (`LlamaRunner`, `ClipEncoder`, `SiglipEncoder`). A model kind's runtime provides a
 * set of them (`ModelKind.provides`); an arm declares which set it needs (`ArmDefinition.needs`).
 * Runners know nothing about benchmarks, items or metrics.
 */

import type { ImageInput } from '../core/image-input.js';

export type { ImageInput };

/** A contrastive encoder (CLIP) behind onnxruntime. Embeddings are L2-normalised. */
export interface ContrastiveEncoder {
  /** sha256 of the model files, for task hashes and the manifest. */
  readonly modelHash: string;
  encodeImages(images: ImageInput[]): Promise<Float32Array[]>;
  encodeTexts(texts: string[]): Promise<Float32Array[]>;
  /**
   * The vision tower's pooled output before the projection (not normalised), where the model
   * exposes it (CLIP: post_layernorm of the class token); absent or throwing `arm-not-applicable` where not.
   */
  encodePooledImages?(images: ImageInput[]): Promise<Float32Array[]>;
  /**
   * The model's own match probability for a cosine, where it has one (SigLIP: sigmoid(exp(t)·cos + b));
   * recorded beside the cosine, which every argmax metric reads.
   */
  probability?(cosine: number): number | null;
  /** Per-patch and per-token vectors in the joint space, where the model exposes its hidden states (CLIP towers). */
  readonly dense?: DenseEncoder | undefined;
  close(): Promise<void>;
}

/**
 * Rows of vectors in a contrastive model's joint space, each L2-normalised, row-major
 * [rows, dim]: an image's class token and patches, or a text's tokens.
 */
export interface DenseVectors {
  rows: number;
  dim: number;
  data: Float32Array;
}

/** A text's tokens in the joint space: BOS, the caption's tokens, EOS (no padding). */
export interface DenseTokens extends DenseVectors {
  ids: number[];
}

/**
 * The hidden states of a contrastive model's towers projected into its joint space with the
 * model's own maps (CLIP: post_layernorm and visual_projection on every patch; text_projection on
 * every token), for late-interaction scoring (`clip.dense`).
 */
export interface DenseEncoder {
  /** Per image: row 0 the class token, then the patches in row-major grid order. */
  encodeImagePatches(images: ImageInput[]): Promise<DenseVectors[]>;
  encodeTextTokens(texts: string[]): Promise<DenseTokens[]>;
  /** Patch grid (rows, columns) of the vision tower. */
  readonly grid: [number, number];
  /** How the projection was read from the model files (recorded in each sample's `extra.projection`). */
  describe(): Promise<string[]>;
}

/** Server timings of one llama-server call, as recorded in samples.jsonl. */
export interface CallTimings {
  promptTokens: number;
  cachedTokens: number;
  promptMs: number;
  predictedMs: number;
}

export interface TokenLogprob {
  id: number;
  token: string;
  logprob: number;
}

/** The renormalised distribution over a closed set of answers (option letters) at one position. */
export interface ChoiceScore {
  /** log of each choice's probability renormalised over the choices (they sum to 1 in probability). */
  logprobs: number[];
  /** the token id that distinguishes each choice, scored at the answer position */
  tokenIds: number[];
  /** text appended to the prompt before the answer position (the choices' common first tokens), e.g. " (" */
  sharedPrefix: string;
  /** `grammar`: one call constrained to the choices with post-sampling probabilities (the normal
   *  route); `n_probs`: next-token log-probabilities (top 20, the full vocabulary only if a choice
   *  was missing), used when a choice's token has no text form for a grammar. */
  route: 'grammar' | 'n_probs';
  /** unnormalised log P(choice token | prompt) under the whole vocabulary (n_probs route only) */
  rawLogprobs: number[] | undefined;
  timings: CallTimings[];
}

export interface Generation {
  text: string;
  tokens: number[];
  stopType: string | undefined;
  timings: CallTimings;
}

export interface ContinuationScore {
  /** log P of each continuation token (and of the end token last, when asked), each given everything before it. */
  tokenLogprobs: number[];
  tokenIds: number[];
  /** log P of the first token of each alternative continuation, at the first position. */
  alternativeLogprobs: number[];
  timings: CallTimings[];
}

/** Every capability carries the model's identity: task hashes include it. */
export interface ModelIdentity {
  /** sha256 of the model files, for task hashes and the manifest. */
  readonly modelHash: string;
}

/** Log-probability of a continuation after a prompt, token by token (VQAScore). */
export interface ContinuationScorer extends ModelIdentity {
  /**
   * `end`: the token scored after the continuation, if any: `eos` (the tokenizer's end-of-sequence,
   * as t2v_metrics appends `</s>`) or `end-of-turn` (`ChatPrompter.endOfTurn`).
   */
  scoreContinuation(
    context: string,
    images: Buffer[],
    continuation: string,
    options: { end?: 'eos' | 'end-of-turn'; alternatives?: string[] },
  ): Promise<ContinuationScore>;
}

/** The renormalised distribution over a closed set of answers (option letters) after a prompt. */
export interface LetterScorer extends ModelIdentity {
  choiceLogprobs(context: string, images: Buffer[], choices: string[]): Promise<ChoiceScore>;
}

/** A greedy answer. */
export interface Generator extends ModelIdentity {
  generate(prompt: string, images: Buffer[], options: { maxTokens: number; stop?: string[] }): Promise<Generation>;
}

/** Last-token embeddings of prompts with or without images (VLM2Vec). */
export interface Embedder extends ModelIdentity {
  embed(inputs: Array<{ prompt: string; images: Buffer[] }>): Promise<Float32Array[]>;
}

/** The model's own chat template (`prompt_format: model`) and its end-of-turn token. */
export interface ChatPrompter extends ModelIdentity {
  /** One user turn rendered through the model's template, generation prompt appended. */
  chatPrompt(userText: string): Promise<string>;
  /** The token the model ends its turn with (`<|im_end|>`, `<end_of_turn>`, `</s>`…), read from the model. */
  endOfTurn(): Promise<{ id: number; text: string }>;
}

/** Everything a generative VLM served by llama-server provides. */
export type VlmCapabilities = ContinuationScorer & LetterScorer & Generator & Embedder & ChatPrompter;

/** The capability sets a model kind can provide and an arm can need. */
export type CapabilitySet = 'contrastive' | 'vlm';

/** The interface behind each capability set. */
export interface CapabilityTypes {
  contrastive: ContrastiveEncoder;
  vlm: VlmCapabilities;
}
