/**
 * A thin, validated HTTP client for llama.cpp's llama-server (the build node-llama-cpp@3.22.1 ships,
 * llama.cpp 0.5.0). Every response is checked with zod; a response that does not have the expected
 * shape is a PerceiveError('bad-server-answer') naming the endpoint and the field, so an upstream
 * API change fails loudly instead of producing NaN scores.
 */
import { z } from 'zod';
import { PerceiveError } from '../../core/errors.js';
import type { CallTimings, TokenLogprob } from '../capabilities.js';
import { describeZodIssues } from '../../core/zod-issues.js';

/** The media marker this project pins with LLAMA_MEDIA_MARKER when it starts a server. */
export const MEDIA_MARKER = '<__media__>';

export const DEFAULT_REQUEST_TIMEOUT_MS = 10 * 60_000;

/** HTTP error answered by the server (status is not 2xx). code is always 'server-error'. */
export class LlamaServerHttpError extends PerceiveError {
  readonly status: number;
  readonly serverMessage: string;
  readonly endpoint: string;

  constructor(endpoint: string, status: number, serverMessage: string) {
    super('server-error', `llama-server ${endpoint} answered HTTP ${status}: ${serverMessage}`);
    this.status = status;
    this.serverMessage = serverMessage;
    this.endpoint = endpoint;
  }
}

// ---------------------------------------------------------------------------------------------
// Response schemas (lenient: unknown keys pass through, only what we use is required)

const healthSchema = z.looseObject({ status: z.string() });

const propsSchema = z.looseObject({
  default_generation_settings: z.looseObject({ n_ctx: z.number().int() }),
  total_slots: z.number().int().optional(),
  model_path: z.string().optional(),
  model_alias: z.string().optional(),
  modalities: z.looseObject({
    vision: z.boolean(),
    audio: z.boolean().optional(),
    video: z.boolean().optional(),
  }),
  media_marker: z.string().optional(),
  chat_template: z.string().optional(),
  bos_token: z.string().optional(),
  eos_token: z.string().optional(),
  build_info: z.string().optional(),
});
export type LlamaPropsRaw = z.infer<typeof propsSchema>;

const pieceSchema = z.union([z.string(), z.array(z.number().int())]);
const tokenizeSchema = z.looseObject({
  tokens: z.array(z.union([z.number().int(), z.looseObject({ id: z.number().int(), piece: pieceSchema })])),
});

const detokenizeSchema = z.looseObject({ content: z.string() });

const applyTemplateSchema = z.looseObject({ prompt: z.string() });

const topEntrySchema = z.looseObject({
  id: z.number().int(),
  token: z.string(),
  bytes: z.array(z.number().int()).optional(),
  logprob: z.number().optional(),
  prob: z.number().optional(),
});

const probEntrySchema = z.looseObject({
  id: z.number().int(),
  token: z.string(),
  bytes: z.array(z.number().int()).optional(),
  logprob: z.number().optional(),
  prob: z.number().optional(),
  top_logprobs: z.array(topEntrySchema).optional(),
  top_probs: z.array(topEntrySchema).optional(),
});

const timingsSchema = z.looseObject({
  cache_n: z.number(),
  prompt_n: z.number(),
  prompt_ms: z.number(),
  predicted_n: z.number(),
  predicted_ms: z.number(),
});

const completionSchema = z.looseObject({
  content: z.string(),
  tokens: z.array(z.number().int()).optional(),
  id_slot: z.number().int().optional(),
  tokens_predicted: z.number().int(),
  tokens_evaluated: z.number().int(),
  tokens_cached: z.number().int().optional(),
  stop_type: z.string().optional(),
  stopping_word: z.string().optional(),
  truncated: z.boolean().optional(),
  timings: timingsSchema,
  completion_probabilities: z.array(probEntrySchema).optional(),
});
export type LlamaCompletionRaw = z.infer<typeof completionSchema>;

const embeddingsSchema = z.array(
  z.looseObject({
    index: z.number().int(),
    // with a pooling type the server nests the one pooled vector: [[...]]; accept a flat one too
    embedding: z.union([z.array(z.array(z.number())), z.array(z.number())]),
  }),
);

const modelsSchema = z.looseObject({
  data: z.array(
    z.looseObject({
      id: z.string(),
      meta: z
        .looseObject({
          n_vocab: z.number().optional(),
          n_ctx_train: z.number().optional(),
          n_embd: z.number().optional(),
          n_params: z.number().optional(),
          size: z.number().optional(),
        })
        .nullish(),
    }),
  ),
  models: z.array(z.looseObject({ capabilities: z.array(z.string()).optional() })).optional(),
});

// ---------------------------------------------------------------------------------------------
// Public types

export interface LlamaProps {
  nCtx: number;
  totalSlots: number | undefined;
  modelPath: string | undefined;
  vision: boolean;
  audio: boolean;
  mediaMarker: string | undefined;
  chatTemplate: string | undefined;
  bosToken: string | undefined;
  eosToken: string | undefined;
  buildInfo: string | undefined;
  raw: LlamaPropsRaw;
}

export interface TokenizeOptions {
  /** add BOS (default false here, unlike the server's default) */
  addSpecial?: boolean;
  /** parse special token texts such as "</s>" (default false) */
  parseSpecial?: boolean;
  /** also return each token's piece */
  withPieces?: boolean;
}

export interface TokenizeResult {
  ids: number[];
  /** Present when withPieces was asked. A piece that is not valid UTF-8 comes back as its bytes. */
  pieces?: Array<string | number[]>;
}

export interface CompletionRequest {
  /** The prompt text; it must contain one media marker per image, in image order. */
  prompt: string;
  /** Encoded image files (PNG/JPEG...), sent as raw base64 in `multimodal_data`. */
  images?: Buffer[];
  /** tokens to generate; default 1 (scoring), unlike the server's unlimited default */
  nPredict?: number;
  nProbs?: number;
  temperature?: number;
  grammar?: string;
  /** Report probabilities after sampling filters/grammar (keys `prob`/`top_probs`). */
  postSamplingProbs?: boolean;
  topK?: number;
  topP?: number;
  minP?: number;
  /** default true: reuse the slot's KV prefix */
  cachePrompt?: boolean;
  seed?: number;
  idSlot?: number;
  stop?: string[];
  /** extra raw fields merged into the request body */
  extra?: Record<string, unknown>;
}

export interface TopTokenProb extends TokenLogprob {
  /** exp(logprob), or the server's post-sampling probability */
  prob: number;
  bytes?: number[];
}

export interface TokenProbability extends TopTokenProb {
  /** Candidates for this position, most probable first (n_probs entries). */
  top: TopTokenProb[];
}

export interface CompletionResult {
  content: string;
  tokens: number[];
  /** One entry per generated token (empty unless nProbs > 0). */
  probabilities: TokenProbability[];
  /** true when the probabilities are post-sampling (`prob`), false for pre-sampling log-probs */
  postSampling: boolean;
  timings: CallTimings;
  /** tokens of the whole prompt, image tokens included */
  tokensEvaluated: number;
  tokensPredicted: number;
  stopType: string | undefined;
  idSlot: number | undefined;
  raw: LlamaCompletionRaw;
}

export interface EmbeddingInput {
  prompt: string;
  images?: Buffer[];
}

export interface LlamaModelInfo {
  id: string;
  nVocab: number | undefined;
  nCtxTrain: number | undefined;
  nEmbd: number | undefined;
  nParams: number | undefined;
  sizeBytes: number | undefined;
  capabilities: string[] | undefined;
}

export interface LlamaClientOptions {
  /** per-request timeout; default 10 minutes (real 7B models take about a minute per new image) */
  timeoutMs?: number;
  /** the media marker the server expects (default MEDIA_MARKER) */
  marker?: string;
  /** for tests */
  fetch?: typeof fetch;
  /** llama-server `--api-key`: sent as `Authorization: Bearer <key>` on every request */
  apiKey?: string | undefined;
}

// ---------------------------------------------------------------------------------------------

function countOccurrences(text: string, needle: string): number {
  if (needle.length === 0) return 0;
  let count = 0;
  for (let i = text.indexOf(needle); i !== -1; i = text.indexOf(needle, i + needle.length)) count++;
  return count;
}

function describeIssue(endpoint: string, error: z.ZodError): string {
  return `llama-server ${endpoint} answered an unexpected shape: ${describeZodIssues(error, { limit: 1 })}`;
}

function parseAnswer<T>(endpoint: string, schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body);
  if (!result.success) {
    throw new PerceiveError('bad-server-answer', describeIssue(endpoint, result.error), {
      hint: 'the llama-server build may not match the version this project was written for (llama.cpp 0.5.0)',
    });
  }
  return result.data;
}

function toTop(e: z.infer<typeof topEntrySchema>, endpoint: string, where: string): TopTokenProb {
  let logprob: number;
  let prob: number;
  if (typeof e.logprob === 'number') {
    logprob = e.logprob;
    prob = typeof e.prob === 'number' ? e.prob : Math.exp(e.logprob);
  } else if (typeof e.prob === 'number') {
    prob = e.prob;
    logprob = Math.log(e.prob);
  } else {
    throw new PerceiveError('bad-server-answer', `llama-server ${endpoint} answered an unexpected shape: field ${where}: neither logprob nor prob`);
  }
  const out: TopTokenProb = { id: e.id, token: e.token, logprob, prob };
  if (e.bytes) out.bytes = e.bytes;
  return out;
}

export class LlamaClient {
  readonly baseUrl: string;
  readonly timeoutMs: number;
  readonly marker: string;
  private readonly fetchImpl: typeof fetch;
  private readonly apiKey: string | undefined;

  constructor(baseUrl: string, options: LlamaClientOptions = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.marker = options.marker ?? MEDIA_MARKER;
    this.fetchImpl = options.fetch ?? fetch;
    this.apiKey = options.apiKey;
  }

  /** A client for the same server with another marker or timeout. */
  with(options: LlamaClientOptions): LlamaClient {
    return new LlamaClient(this.baseUrl, {
      timeoutMs: options.timeoutMs ?? this.timeoutMs,
      marker: options.marker ?? this.marker,
      fetch: options.fetch ?? this.fetchImpl,
      apiKey: options.apiKey ?? this.apiKey,
    });
  }

  /** Sends a request; returns the parsed JSON body of a 2xx answer. */
  private async request(method: 'GET' | 'POST', endpoint: string, body?: unknown, options: { timeoutMs?: number } = {}): Promise<unknown> {
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    let response: Response;
    try {
      response = await this.fetchImpl(this.baseUrl + endpoint, {
        method,
        headers: {
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(this.apiKey === undefined ? {} : { authorization: `Bearer ${this.apiKey}` }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      const name = error instanceof Error ? error.name : '';
      if (name === 'TimeoutError' || name === 'AbortError') {
        throw new PerceiveError('server-timeout', `llama-server ${endpoint} did not answer within ${timeoutMs} ms`, {
          cause: error,
        });
      }
      const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
      throw new PerceiveError('server-unreachable', `cannot reach llama-server at ${this.baseUrl}${endpoint}${cause}`, {
        cause: error,
      });
    }
    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      const name = error instanceof Error ? error.name : '';
      if (name === 'TimeoutError' || name === 'AbortError') {
        throw new PerceiveError('server-timeout', `llama-server ${endpoint} did not answer within ${timeoutMs} ms`, {
          cause: error,
        });
      }
      throw new PerceiveError('server-unreachable', `llama-server ${endpoint}: connection lost while reading`, {
        cause: error,
      });
    }
    if (!response.ok) {
      let message = text.trim();
      try {
        const parsed: unknown = JSON.parse(text);
        if (parsed && typeof parsed === 'object' && 'error' in parsed) {
          const err = (parsed as { error: unknown }).error;
          if (err && typeof err === 'object' && 'message' in err) message = String((err as { message: unknown }).message);
          else if (typeof err === 'string') message = err;
        }
      } catch {
        // not JSON: keep the text
      }
      if (message.length > 2000) message = message.slice(0, 2000) + '…';
      throw new LlamaServerHttpError(endpoint, response.status, message || response.statusText);
    }
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new PerceiveError('bad-server-answer', `llama-server ${endpoint} answered non-JSON: ${text.slice(0, 200)}`);
    }
  }

  /** GET /health: resolves when the server answers {"status":"ok"}; throws otherwise (503 while loading). */
  async health(options: { timeoutMs?: number } = {}): Promise<{ status: string }> {
    const body = await this.request('GET', '/health', undefined, options);
    return parseAnswer('/health', healthSchema, body);
  }

  async props(): Promise<LlamaProps> {
    const raw = parseAnswer('/props', propsSchema, await this.request('GET', '/props'));
    return {
      nCtx: raw.default_generation_settings.n_ctx,
      totalSlots: raw.total_slots,
      modelPath: raw.model_path,
      vision: raw.modalities.vision,
      audio: raw.modalities.audio ?? false,
      mediaMarker: raw.media_marker,
      chatTemplate: raw.chat_template,
      bosToken: raw.bos_token,
      eosToken: raw.eos_token,
      buildInfo: raw.build_info,
      raw,
    };
  }

  async tokenize(text: string, options: TokenizeOptions = {}): Promise<TokenizeResult> {
    const body = await this.request('POST', '/tokenize', {
      content: text,
      add_special: options.addSpecial ?? false,
      parse_special: options.parseSpecial ?? false,
      with_pieces: options.withPieces ?? false,
    });
    const parsed = parseAnswer('/tokenize', tokenizeSchema, body);
    const ids: number[] = [];
    const pieces: Array<string | number[]> = [];
    parsed.tokens.forEach((t, i) => {
      if (typeof t === 'number') {
        if (options.withPieces) {
          throw new PerceiveError('bad-server-answer', `llama-server /tokenize answered an unexpected shape: field tokens.${i}: expected {id, piece}`);
        }
        ids.push(t);
      } else {
        ids.push(t.id);
        pieces.push(t.piece);
      }
    });
    return options.withPieces ? { ids, pieces } : { ids };
  }

  async detokenize(ids: readonly number[]): Promise<string> {
    const body = await this.request('POST', '/detokenize', { tokens: ids });
    return parseAnswer('/detokenize', detokenizeSchema, body).content;
  }

  /**
   * POST /apply-template: renders chat messages through the model's own chat template (the GGUF's
   * `tokenizer.chat_template`, or the server's fallback), with the generation prompt appended.
   * Media markers in the content pass through as text.
   */
  async applyTemplate(messages: Array<{ role: 'system' | 'user' | 'assistant'; content: string }>): Promise<string> {
    const body = await this.request('POST', '/apply-template', { messages });
    return parseAnswer('/apply-template', applyTemplateSchema, body).prompt;
  }

  private promptField(prompt: string, images: Buffer[] | undefined): unknown {
    const count = countOccurrences(prompt, this.marker);
    const n = images?.length ?? 0;
    if (count !== n) {
      throw new PerceiveError('bad-prompt', `the prompt has ${count} media marker(s) ${this.marker} but ${n} image(s) were given; put one marker per image`);
    }
    if (!images || images.length === 0) return prompt;
    return { prompt_string: prompt, multimodal_data: images.map((b) => b.toString('base64')) };
  }

  async completion(req: CompletionRequest): Promise<CompletionResult> {
    const body: Record<string, unknown> = {
      prompt: this.promptField(req.prompt, req.images),
      n_predict: req.nPredict ?? 1,
      cache_prompt: req.cachePrompt ?? true,
      return_tokens: true,
      stream: false,
    };
    if (req.nProbs !== undefined) body.n_probs = req.nProbs;
    if (req.temperature !== undefined) body.temperature = req.temperature;
    if (req.grammar !== undefined) body.grammar = req.grammar;
    if (req.postSamplingProbs !== undefined) body.post_sampling_probs = req.postSamplingProbs;
    if (req.topK !== undefined) body.top_k = req.topK;
    if (req.topP !== undefined) body.top_p = req.topP;
    if (req.minP !== undefined) body.min_p = req.minP;
    if (req.seed !== undefined) body.seed = req.seed;
    if (req.idSlot !== undefined) body.id_slot = req.idSlot;
    if (req.stop !== undefined) body.stop = req.stop;
    if (req.extra) Object.assign(body, req.extra);

    const endpoint = '/completion';
    const raw = parseAnswer(endpoint, completionSchema, await this.request('POST', endpoint, body));
    const probs = raw.completion_probabilities ?? [];
    const postSampling = probs.some((p) => p.top_probs !== undefined || (p.logprob === undefined && p.prob !== undefined));
    const probabilities: TokenProbability[] = probs.map((p, i) => {
      const topRaw = p.top_probs ?? p.top_logprobs ?? [];
      const self = toTop(p, endpoint, `completion_probabilities.${i}`);
      return {
        ...self,
        top: topRaw.map((t, j) => toTop(t, endpoint, `completion_probabilities.${i}.top.${j}`)),
      };
    });
    const t = raw.timings;
    return {
      content: raw.content,
      tokens: raw.tokens ?? [],
      probabilities,
      postSampling,
      timings: {
        promptTokens: t.cache_n + t.prompt_n,
        cachedTokens: t.cache_n,
        promptMs: t.prompt_ms,
        predictedMs: t.predicted_ms,
      },
      tokensEvaluated: raw.tokens_evaluated,
      tokensPredicted: raw.tokens_predicted,
      stopType: raw.stop_type,
      idSlot: raw.id_slot,
      raw,
    };
  }

  /**
   * POST /embeddings, one vector per input (the server's pooled vector; with `--pooling last`
   * the last token's final hidden state). normalize: 2 = L2 (server default), -1 = raw.
   */
  async embeddings(inputs: EmbeddingInput[], options: { normalize?: number } = {}): Promise<Float32Array[]> {
    if (inputs.length === 0) return [];
    const content = inputs.map((input) => this.promptField(input.prompt, input.images));
    const body: Record<string, unknown> = { content };
    if (options.normalize !== undefined) body.embd_normalize = options.normalize;
    const endpoint = '/embeddings';
    const parsed = parseAnswer(endpoint, embeddingsSchema, await this.request('POST', endpoint, body));
    if (parsed.length !== inputs.length) {
      throw new PerceiveError('bad-server-answer', `llama-server ${endpoint} answered ${parsed.length} embeddings for ${inputs.length} inputs`);
    }
    const out: Array<Float32Array | undefined> = new Array(inputs.length);
    for (const [k, item] of parsed.entries()) {
      if (item.index < 0 || item.index >= inputs.length || out[item.index] !== undefined) {
        throw new PerceiveError(
          'bad-server-answer',
          `llama-server ${endpoint} answered an unexpected shape: field ${k}.index: ${item.index} out of range or repeated`,
        );
      }
      const e = item.embedding;
      let vector: number[];
      if (e.length > 0 && Array.isArray(e[0])) {
        const nested = e as number[][];
        if (nested.length !== 1) {
          throw new PerceiveError(
            'bad-server-answer',
            `llama-server ${endpoint} answered ${nested.length} vectors for input ${item.index} (field ${k}.embedding); ` +
              'start the server with a pooling type (--pooling last)',
          );
        }
        vector = nested[0]!;
      } else {
        vector = e as number[];
      }
      out[item.index] = Float32Array.from(vector);
    }
    return out as Float32Array[];
  }

  /** GET /v1/models: the loaded model's id and sizes. */
  async modelInfo(): Promise<LlamaModelInfo> {
    const endpoint = '/v1/models';
    const parsed = parseAnswer(endpoint, modelsSchema, await this.request('GET', endpoint));
    const first = parsed.data[0];
    if (!first) {
      throw new PerceiveError('bad-server-answer', `llama-server ${endpoint} answered an unexpected shape: field data: empty`);
    }
    return {
      id: first.id,
      nVocab: first.meta?.n_vocab,
      nCtxTrain: first.meta?.n_ctx_train,
      nEmbd: first.meta?.n_embd,
      nParams: first.meta?.n_params,
      sizeBytes: first.meta?.size,
      capabilities: parsed.models?.[0]?.capabilities,
    };
  }
}
