import fs from 'node:fs';
import type { LlamaModelSpec as LlamaModelConfig } from './llama-model-spec.js';
import type { Environment } from '../../core/environment.js';
import { PerceiveError } from '../../core/errors.js';
import { fileSha256, filesSha256 } from '../../core/file-hash.js';
import { IMAGE_PLACEHOLDER } from './prompts/prompt-template.js';
import type { CallTimings, ChoiceScore, ContinuationScore, Generation, VlmCapabilities } from '../capabilities.js';
import { type LlamaBinaries, llamaServerMissingHint } from './llama-build.js';
import { LlamaServerHttpError, type CompletionResult, type LlamaClient, type LlamaProps } from './llama-client.js';
import { readGgufMetadata, type GgufMetadataSummary } from './gguf-metadata.js';
import { readEndOfTurn, type EndOfTurn } from './end-of-turn.js';
import { LlamaServer, type LlamaServerExit } from './llama-server.js';

export { CHOICE_SCORING_VERSION } from './choice-scoring-version.js';

/**
 * A llama model entry of the config (request_timeout_ms may be left out: 10 minutes). A runner is
 * one server: `servers` (how many per worker) is the model kind's business, not the runner's.
 */
type LlamaModelSpec = Omit<LlamaModelConfig, 'request_timeout_ms' | 'servers'> & { request_timeout_ms?: number; servers?: number };

/** How many top candidates to ask for first; the full vocabulary only when a wanted token is missing. */
const FIRST_N_PROBS = 20;

/** How the runner survives a crashed or hung server. */
export interface RetryPolicy {
  /** attempts per call, the first included */
  attempts: number;
  /** first wait before a retry; doubles each time up to maxDelayMs */
  initialDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, initialDelayMs: 250, maxDelayMs: 8000 };

/**
 * Whether a failed call is worth retrying: connection errors (a crashed server), timeouts (a hung
 * one, which is killed and restarted first) and 5xx answers. 4xx answers (a bad request) and answers
 * of the wrong shape are not: the same request would fail the same way.
 */
export function isRetryable(error: unknown): boolean {
  if (error instanceof LlamaServerHttpError) return error.status >= 500;
  if (error instanceof PerceiveError) return error.code === 'server-unreachable' || error.code === 'server-timeout';
  return false;
}

/** What the manifest records about a llama model (see `LlamaRunner.metadata`). */
export interface LlamaRunnerMetadata {
  model: GgufMetadataSummary;
  mmproj: GgufMetadataSummary;
  modelSha256: string;
  mmprojSha256: string;
  /** llama.cpp's build info from GET /props (e.g. `b1-abc123`), when the server reports it */
  buildInfo: string | undefined;
  nCtx: number;
  totalSlots: number | undefined;
  /** the chat template the server renders the `model` prompt format with */
  chatTemplate: string | undefined;
  /** how often the server was restarted after a crash during this run */
  restarts: number;
}

/** What a call needs of the current server. */
interface ServerView {
  client: LlamaClient;
  marker: string;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** GBNF string literal for a text (the grammar's escapes are JSON's for these characters). */
function gbnfLiteral(text: string): string {
  return JSON.stringify(text);
}

/** A restart of a server that died: its exit (code, signal, last log lines) and the count so far. */
export interface LlamaRestart {
  exit: LlamaServerExit | undefined;
  restarts: number;
}

/**
 * The VLM runner: one llama-server (spawned, or attached via LLAMA_SERVER_URL) for one GGUF +
 * mmproj pair. It scores by next-token log-probabilities and knows nothing about benchmarks.
 * Prompts carry IMAGE_PLACEHOLDER once per image; the runner puts in the server's media marker.
 */
export class LlamaRunner implements VlmCapabilities {
  private server: LlamaServer;
  private nVocab: number | undefined;
  private eosId: number | undefined;
  private endOfTurnCache: Promise<EndOfTurn> | undefined;
  private readonly tokenCache = new Map<string, Promise<number[]>>();
  private readonly templateCache = new Map<string, Promise<string>>();
  private restarting: Promise<LlamaServer> | undefined;
  private restartCount = 0;
  /** Told of every restart: why the old server ended (its exit code or signal and last lines). */
  onRestart: ((restart: LlamaRestart) => void) | undefined;
  private metadataCache: Promise<LlamaRunnerMetadata> | undefined;

  private constructor(
    server: LlamaServer,
    readonly modelHash: string,
    readonly files: string[],
    private readonly restart: () => Promise<LlamaServer>,
    private readonly retry: RetryPolicy,
    /** per-request timeout of the runner's calls (start-up checks keep the server's own) */
    private readonly requestTimeoutMs?: number,
  ) {
    this.server = server;
  }

  private readonly views = new WeakMap<LlamaServer, ServerView>();

  /** The client (with the runner's request timeout) and media marker of a server. */
  private view(server: LlamaServer): ServerView {
    let v = this.views.get(server);
    if (!v) {
      const client = this.requestTimeoutMs === undefined ? server.client : server.client.with({ timeoutMs: this.requestTimeoutMs });
      v = { client, marker: server.marker };
      this.views.set(server, v);
    }
    return v;
  }

  static async start(
    spec: LlamaModelSpec,
    options: {
      env: Environment;
      binaries: LlamaBinaries | undefined;
      logFile?: string;
      retry?: Partial<RetryPolicy>;
      requestTimeoutMs?: number;
      onRestart?: (restart: LlamaRestart) => void;
    },
  ): Promise<LlamaRunner> {
    for (const [field, file] of [
      ['model', spec.model],
      ['mmproj', spec.mmproj],
    ] as const) {
      if (!fs.existsSync(file)) {
        throw new PerceiveError('model-not-found', `${field} file not found: ${file}`, {
          hint: 'check the path in the config (paths are relative to the config file)',
        });
      }
    }
    const modelHash = await filesSha256([spec.model, spec.mmproj], options.env.cacheDir);
    const launch = async (): Promise<LlamaServer> => {
      if (options.env.llamaServerUrl) return LlamaServer.attach(options.env.llamaServerUrl, { requireVision: true });
      if (!options.binaries) {
        throw new PerceiveError('llama-bin-missing', 'llama-server is not built', { hint: llamaServerMissingHint(options.env) });
      }
      return LlamaServer.start({
        bin: options.binaries.server,
        model: spec.model,
        mmproj: spec.mmproj,
        threads: spec.threads ?? options.env.threads,
        contextSize: spec.context_size,
        slots: spec.slots,
        ...(spec.gpu_layers !== undefined ? { gpuLayers: spec.gpu_layers } : {}),
        ...(spec.devices !== undefined ? { devices: spec.devices } : {}),
        extraArgs: spec.server_args,
        allowHostOverride: spec.allow_host_override ?? false,
        ...(options.logFile ? { logFile: options.logFile } : {}),
      });
    };
    const runner = new LlamaRunner(
      await launch(),
      modelHash,
      [spec.model, spec.mmproj],
      launch,
      { ...DEFAULT_RETRY, ...options.retry },
      options.requestTimeoutMs ?? spec.request_timeout_ms,
    );
    runner.onRestart = options.onRestart;
    return runner;
  }

  /** The current server process (a new one after a restart). */
  get currentServer(): LlamaServer {
    return this.server;
  }

  /** How many times the server was restarted after it died. */
  get restarts(): number {
    return this.restartCount;
  }

  get marker(): string {
    return this.server.marker;
  }

  get url(): string {
    return this.server.url;
  }

  /** The HTTP client of the current server (for arms that need an endpoint the runner does not wrap). */
  get client(): LlamaServer['client'] {
    return this.server.client;
  }

  /**
   * The running server; a server that died (a crash, the OOM killer, SIGKILL) is restarted first.
   * Concurrent callers share one restart.
   */
  private async live(): Promise<LlamaServer> {
    if (this.server.running) return this.server;
    if (!this.restarting) {
      const exit = this.server.exitStatus;
      this.restarting = (async () => {
        let delay = this.retry.initialDelayMs;
        for (let attempt = 1; ; attempt++) {
          try {
            const server = await this.restart();
            this.restartCount += 1;
            this.onRestart?.({ exit, restarts: this.restartCount });
            return server;
          } catch (error) {
            if (attempt >= this.retry.attempts) throw error;
            await sleep(delay);
            delay = Math.min(delay * 2, this.retry.maxDelayMs);
          }
        }
      })();
      try {
        this.server = await this.restarting;
      } finally {
        this.restarting = undefined;
      }
      return this.server;
    }
    return this.restarting;
  }

  /**
   * Runs one HTTP call against the live server, retrying with exponential backoff when the server
   * crashed (restarted first), hung past the request timeout (killed, then restarted) or answered
   * 5xx. A 4xx answer or an answer of the wrong shape is thrown at once.
   */
  private async call<T>(fn: (server: ServerView) => Promise<T>): Promise<T> {
    let delay = this.retry.initialDelayMs;
    for (let attempt = 1; ; attempt++) {
      const server = await this.live();
      try {
        return await fn(this.view(server));
      } catch (error) {
        if (!isRetryable(error) || attempt >= this.retry.attempts) throw error;
        if (error instanceof PerceiveError && error.code === 'server-timeout' && server.managed) await server.stop(1000);
        await sleep(delay);
        delay = Math.min(delay * 2, this.retry.maxDelayMs);
      }
    }
  }

  async stop(): Promise<void> {
    await this.server.stop();
  }

  async tokenize(text: string, parseSpecial = false): Promise<number[]> {
    const key = `${parseSpecial ? 1 : 0}\u0000${text}`;
    let p = this.tokenCache.get(key);
    if (!p) {
      p = this.call((s) => s.client.tokenize(text, { addSpecial: false, parseSpecial }).then((r) => r.ids));
      this.tokenCache.set(key, p);
      p.catch(() => this.tokenCache.delete(key));
    }
    return p;
  }

  private readonly pieceCache = new Map<string, Promise<{ ids: number[]; pieces?: Array<string | number[]> }>>();

  /** Token ids and pieces of a text (cached like `tokenize`). */
  private tokenizeWithPieces(text: string): Promise<{ ids: number[]; pieces?: Array<string | number[]> }> {
    let p = this.pieceCache.get(text);
    if (!p) {
      p = this.call((s) => s.client.tokenize(text, { withPieces: true }));
      this.pieceCache.set(text, p);
      p.catch(() => this.pieceCache.delete(text));
    }
    return p;
  }

  private async vocabSize(): Promise<number> {
    if (this.nVocab === undefined) {
      const info = await this.call((s) => s.client.modelInfo());
      if (!info.nVocab) throw new PerceiveError('bad-server-answer', '/v1/models did not report n_vocab');
      this.nVocab = info.nVocab;
    }
    return this.nVocab;
  }

  /** The model's end-of-sequence token id as llama-server reports it in /props (LLaVA-1.5: "</s>", id 2). */
  async eos(): Promise<number> {
    if (this.eosId === undefined) {
      const text = this.server.props.eosToken;
      if (!text) {
        throw new PerceiveError('no-eos', `${this.files[0]}: llama-server reports no end-of-sequence token (/props eos_token)`, {
          hint: 'use a GGUF whose tokenizer declares tokenizer.ggml.eos_token_id',
        });
      }
      const ids = await this.tokenize(text, true);
      if (ids.length !== 1) throw new PerceiveError('tokenizer', `the EOS token text ${JSON.stringify(text)} does not tokenize to one token`);
      this.eosId = ids[0]!;
    }
    return this.eosId;
  }

  /**
   * A scoring call whose answer does not depend on what the server had cached. llama.cpp's logits
   * for the last prompt token differ (here up to ~3e-3 in log-probability on the tiny pair) between
   * evaluating it inside a long prompt batch and evaluating it alone on a cached prefix. So when the
   * server evaluated more than the last token, the same request is sent again: it then evaluates
   * only the last token on the cached prefix, which is what every later repeat does too. The cost
   * is one single-token evaluation per cold prompt. Both calls' timings are recorded.
   */
  private async scoringCompletion(timings: CallTimings[], request: (server: ServerView) => Promise<CompletionResult>): Promise<CompletionResult> {
    let r = await this.call(request);
    timings.push(r.timings);
    if (r.timings.promptTokens - r.timings.cachedTokens > 1) {
      r = await this.call(request);
      timings.push(r.timings);
    }
    return r;
  }

  /** The prompt with the server's media marker for each IMAGE_PLACEHOLDER. */
  private static withMarkers(prompt: string, marker: string): string {
    return prompt.split(IMAGE_PLACEHOLDER).join(marker);
  }

  /** The text after the last image placeholder (the part the tokenizer can see on its own). */
  private static textTail(context: string, images: number): string {
    const parts = context.split(IMAGE_PLACEHOLDER);
    if (parts.length - 1 !== images) {
      throw new PerceiveError('prompt', `the prompt has ${parts.length - 1} image placeholders for ${images} images`);
    }
    return parts[parts.length - 1]!;
  }

  /**
   * Renders one user turn through the model's own chat template (llama-server's /apply-template,
   * generation prompt appended). IMAGE_PLACEHOLDER survives as the placeholder.
   */
  async chatPrompt(userText: string): Promise<string> {
    let p = this.templateCache.get(userText);
    if (!p) {
      p = this.call(async (server) => {
        const rendered = await server.client.applyTemplate([{ role: 'user', content: LlamaRunner.withMarkers(userText, server.marker) }]);
        return rendered.split(server.marker).join(IMAGE_PLACEHOLDER);
      });
      this.templateCache.set(userText, p);
      p.catch(() => this.templateCache.delete(userText));
    }
    return p;
  }

  /**
   * The model's end-of-turn token, read from the GGUF as llama.cpp decides it (end-of-turn.ts), and
   * checked against the server: its text must tokenize (special tokens parsed) to that one id.
   */
  endOfTurn(): Promise<EndOfTurn> {
    if (!this.endOfTurnCache) {
      const p = (async () => {
        const eot = await readEndOfTurn(this.files[0]!);
        const ids = await this.tokenize(eot.text, true);
        if (ids.length !== 1 || ids[0] !== eot.id) {
          throw new PerceiveError(
            'tokenizer',
            `the end-of-turn token ${JSON.stringify(eot.text)} (id ${eot.id}) tokenizes to [${ids.join(', ')}] on the server`,
          );
        }
        return eot;
      })();
      this.endOfTurnCache = p;
      p.catch(() => {
        if (this.endOfTurnCache === p) this.endOfTurnCache = undefined;
      });
    }
    return this.endOfTurnCache;
  }

  /** The server's /props (build info, chat template, slots) as read when it started. */
  get props(): LlamaProps {
    return this.server.props;
  }

  /**
   * GGUF metadata of the model and the mmproj (node-llama-cpp's `readGgufFileInfo`), their sha256,
   * and llama.cpp's build info from /props: what the manifest records about this model.
   */
  metadata(): Promise<LlamaRunnerMetadata> {
    if (!this.metadataCache) {
      const [model, mmproj] = this.files as [string, string];
      this.metadataCache = (async () => {
        const [modelMeta, mmprojMeta, modelSha256, mmprojSha256] = await Promise.all([
          readGgufMetadata(model),
          readGgufMetadata(mmproj),
          fileSha256(model),
          fileSha256(mmproj),
        ]);
        const props = this.server.props;
        return {
          model: modelMeta,
          mmproj: mmprojMeta,
          modelSha256,
          mmprojSha256,
          buildInfo: props.buildInfo,
          nCtx: props.nCtx,
          totalSlots: props.totalSlots,
          chatTemplate: props.chatTemplate,
          restarts: this.restartCount,
        };
      })();
      this.metadataCache.catch(() => (this.metadataCache = undefined));
    }
    return this.metadataCache.then((m) => ({ ...m, restarts: this.restartCount }));
  }

  /**
   * Greedy generation (temperature 0) of at most `maxTokens` tokens after the prompt.
   */
  async generate(prompt: string, images: Buffer[], options: { maxTokens: number; stop?: string[] }): Promise<Generation> {
    LlamaRunner.textTail(prompt, images.length);
    const r = await this.call((server) =>
      server.client.completion({
        prompt: LlamaRunner.withMarkers(prompt, server.marker),
        images,
        nPredict: options.maxTokens,
        temperature: 0,
        topK: 1,
        seed: 0,
        cachePrompt: true,
        ...(options.stop ? { stop: options.stop } : {}),
      }),
    );
    return { text: r.content, tokens: r.tokens, stopType: r.stopType, timings: r.timings };
  }

  /**
   * Last-token embeddings (the server runs with `--pooling last`), L2-normalised by the server,
   * one per input. Each input's prompt holds one IMAGE_PLACEHOLDER per image.
   */
  async embed(inputs: Array<{ prompt: string; images: Buffer[] }>): Promise<Float32Array[]> {
    for (const input of inputs) LlamaRunner.textTail(input.prompt, input.images.length);
    return this.call((server) =>
      server.client.embeddings(
        inputs.map((i) => ({ prompt: LlamaRunner.withMarkers(i.prompt, server.marker), images: i.images })),
        { normalize: 2 },
      ),
    );
  }

  /**
   * The model's distribution over a closed set of answers at the answer position (option letters),
   * renormalised over the answers. Each answer's tokens are those of prompt+answer beyond the
   * prompt's own; tokens all answers share (e.g. "▁(" before "a)") are appended to the prompt, and
   * the first token where they differ is scored.
   *
   * Route (docs/architecture.md, "Arms"): one call with a grammar that allows only the answers'
   * distinguishing tokens, temperature 1 and no sampling filters, `post_sampling_probs` and a
   * handful of `n_probs`: the server's probabilities are then the softmax over the allowed tokens,
   * which renormalised over the answers equals the full-vocabulary softmax renormalised over them.
   * Prefix tokens the grammar lets through (a bare "▁") are ignored. If a distinguishing token has
   * no text form for a grammar (a byte piece) or is missing from the answer, the next-token route
   * (top 20, the full vocabulary only when an answer is missing) is used instead.
   */
  async choiceLogprobs(context: string, images: Buffer[], choices: string[]): Promise<ChoiceScore> {
    if (choices.length < 2) throw new PerceiveError('prompt', 'choiceLogprobs needs at least two answers');
    const tail = LlamaRunner.textTail(context, images.length);
    const ctxIds = await this.tokenize(tail);
    const conts = await Promise.all(
      choices.map(async (c) => {
        const full = await this.tokenize(tail + c);
        if (full.length <= ctxIds.length || !ctxIds.every((id, i) => full[i] === id)) {
          throw new PerceiveError(
            'tokenizer',
            `cannot separate the answer ${JSON.stringify(c)} from the prompt: the prompt's tokens are not a prefix of prompt+answer`,
          );
        }
        return full.slice(ctxIds.length);
      }),
    );
    let shared = 0;
    while (conts.every((c) => c.length > shared + 1 && c[shared] === conts[0]![shared])) shared++;
    const tokenIds = conts.map((c) => c[shared]!);
    if (new Set(tokenIds).size !== tokenIds.length) {
      throw new PerceiveError('prompt', `the answers ${JSON.stringify(choices)} do not differ at one token position`);
    }
    let sharedPrefix = '';
    if (shared > 0) {
      sharedPrefix = await this.call((s) => s.client.detokenize(conts[0]!.slice(0, shared)));
      const check = await this.tokenize(tail + sharedPrefix);
      const expected = [...ctxIds, ...conts[0]!.slice(0, shared)];
      if (check.length !== expected.length || check.some((id, i) => id !== expected[i])) {
        throw new PerceiveError('tokenizer', `the answers' shared prefix ${JSON.stringify(sharedPrefix)} does not re-tokenize to the same tokens`);
      }
    }
    const prompt = context + sharedPrefix;
    const timings: CallTimings[] = [];
    const renormalise = (values: number[]): number[] => {
      const max = Math.max(...values);
      const log = max + Math.log(values.reduce((a, v) => a + Math.exp(v - max), 0));
      return values.map((v) => v - log);
    };

    // The distinguishing tokens' texts, from the tokenizer's pieces of prompt+answer.
    const pieces = await Promise.all(
      choices.map(async (c, k) => {
        const r = await this.tokenizeWithPieces(tail + c);
        const piece = r.pieces?.[ctxIds.length + shared];
        return r.ids[ctxIds.length + shared] === tokenIds[k] && typeof piece === 'string' && piece.length > 0 ? piece : undefined;
      }),
    );
    if (pieces.every((p) => p !== undefined)) {
      const grammar = `root ::= ${pieces.map((p) => gbnfLiteral(p!)).join(' | ')}`;
      const r = await this.scoringCompletion(timings, (server) =>
        server.client.completion({
          prompt: LlamaRunner.withMarkers(prompt, server.marker),
          images,
          nPredict: 1,
          grammar,
          postSamplingProbs: true,
          temperature: 1,
          topK: 0,
          topP: 1,
          minP: 0,
          nProbs: Math.max(10, 2 * choices.length + 4),
          seed: 0,
          cachePrompt: true,
        }),
      );
      const top = r.probabilities[0]?.top ?? [];
      const byId = new Map(top.map((t) => [t.id, t.prob]));
      const probs = tokenIds.map((id) => byId.get(id));
      if (probs.every((p) => p !== undefined && p > 0)) {
        return {
          logprobs: renormalise(probs.map((p) => Math.log(p!))),
          tokenIds,
          sharedPrefix,
          route: 'grammar',
          rawLogprobs: undefined,
          timings,
        };
      }
    }
    const r = await this.nextTokenLogprobs(prompt, images, tokenIds);
    timings.push(...r.timings);
    return { logprobs: renormalise(r.logprobs), tokenIds, sharedPrefix, route: 'n_probs', rawLogprobs: r.logprobs, timings };
  }

  /**
   * log P(token | prompt) for each wanted token id at the next position. Asks for the top
   * candidates first; if a wanted token is not among them, asks again for the full vocabulary.
   * Never approximates a missing probability.
   */
  async nextTokenLogprobs(prompt: string, images: Buffer[], wanted: number[]): Promise<{ logprobs: number[]; timings: CallTimings[] }> {
    const timings: CallTimings[] = [];
    const ask = (nProbs: number): Promise<CompletionResult> =>
      this.scoringCompletion(timings, (server) =>
        server.client.completion({
          prompt: LlamaRunner.withMarkers(prompt, server.marker),
          images,
          nPredict: 1,
          nProbs,
          temperature: 0,
          cachePrompt: true,
        }),
      );
    const lookup = (r: CompletionResult): Array<number | undefined> => {
      const first = r.probabilities[0];
      if (!first) throw new PerceiveError('bad-server-answer', '/completion returned no completion_probabilities');
      const byId = new Map(first.top.map((t) => [t.id, t.logprob]));
      return wanted.map((id) => byId.get(id));
    };
    let found = lookup(await ask(FIRST_N_PROBS));
    if (found.some((v) => v === undefined)) found = lookup(await ask(await this.vocabSize()));
    if (found.some((v) => v === undefined)) {
      throw new PerceiveError('bad-server-answer', `token ids ${wanted.join(',')} missing from the full-vocabulary probabilities`);
    }
    return { logprobs: found as number[], timings };
  }

  /**
   * Scores `continuation` after `context` token by token (the t2v_metrics forward pass, one
   * position per call; the image prefix is cached across calls). The continuation's token ids are
   * those the tokenizer gives for context + continuation beyond the context's own tokens; if the
   * context's tokens are not a prefix of the whole, the boundary is ambiguous and this throws.
   */
  async scoreContinuation(
    context: string,
    images: Buffer[],
    continuation: string,
    options: { end?: 'eos' | 'end-of-turn'; alternatives?: string[] },
  ): Promise<ContinuationScore> {
    const tail = LlamaRunner.textTail(context, images.length);
    const ctxIds = await this.tokenize(tail);
    const continuationIds = async (text: string): Promise<number[]> => {
      const full = await this.tokenize(tail + text);
      const prefixOk = ctxIds.every((id, i) => full[i] === id);
      if (!prefixOk || full.length <= ctxIds.length) {
        throw new PerceiveError(
          'tokenizer',
          `cannot separate the answer ${JSON.stringify(text)} from the prompt: the prompt's tokens are not a prefix of prompt+answer`,
        );
      }
      return full.slice(ctxIds.length);
    };
    const answerIds = await continuationIds(continuation);
    const alternativeIds = await Promise.all((options.alternatives ?? []).map(async (a) => (await continuationIds(a))[0]!));
    const end = options.end === 'eos' ? [await this.eos()] : options.end === 'end-of-turn' ? [(await this.endOfTurn()).id] : [];
    const targets = [...answerIds, ...end];

    const tokenLogprobs: number[] = [];
    const timings: CallTimings[] = [];
    let alternativeLogprobs: number[] = [];
    for (let k = 0; k < targets.length; k++) {
      // The text whose tokens are context + targets[0..k).
      let prefix = '';
      if (k === answerIds.length) prefix = continuation;
      else if (k > 0) {
        prefix = await this.call((s) => s.client.detokenize(answerIds.slice(0, k)));
        const check = await this.tokenize(tail + prefix);
        const expected = [...ctxIds, ...answerIds.slice(0, k)];
        if (check.length !== expected.length || check.some((id, i) => id !== expected[i])) {
          throw new PerceiveError('tokenizer', `the answer prefix ${JSON.stringify(prefix)} does not re-tokenize to the same tokens`);
        }
      }
      const wanted = k === 0 ? [targets[0]!, ...alternativeIds] : [targets[k]!];
      const r = await this.nextTokenLogprobs(context + prefix, images, wanted);
      timings.push(...r.timings);
      tokenLogprobs.push(r.logprobs[0]!);
      if (k === 0) alternativeLogprobs = r.logprobs.slice(1);
    }
    return { tokenLogprobs, tokenIds: targets, alternativeLogprobs, timings };
  }
}
