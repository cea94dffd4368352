import fs from 'node:fs';
import type { ModelSpec } from '../../config/experiment.js';
import type { Environment } from '../../config/environment.js';
import { PerceiveError } from '../../errors.js';
import { filesSha256 } from '../../items/file-hash.js';
import { IMAGE_PLACEHOLDER } from '../../prompts/prompt-template.js';
import type { CallTimings } from '../runner.js';
import type { LlamaBinaries } from './llama-build.js';
import type { CompletionResult } from './llama-client.js';
import { LlamaServer } from './llama-server.js';

type LlamaModelSpec = Extract<ModelSpec, { kind: 'llama' }>;

/** How many top candidates to ask for first; the full vocabulary only when a wanted token is missing. */
const FIRST_N_PROBS = 20;

export interface ContinuationScore {
  /** log P of each continuation token (and of EOS last, when asked), each given everything before it. */
  tokenLogprobs: number[];
  tokenIds: number[];
  /** log P of the first token of each alternative continuation, at the first position. */
  alternativeLogprobs: number[];
  timings: CallTimings[];
}

/**
 * The VLM runner: one llama-server (spawned, or attached via LLAMA_SERVER_URL) for one GGUF +
 * mmproj pair. It scores by next-token log-probabilities and knows nothing about benchmarks.
 * Prompts carry IMAGE_PLACEHOLDER once per image; the runner puts in the server's media marker.
 */
export class LlamaRunner {
  private server: LlamaServer;
  private nVocab: number | undefined;
  private eosId: number | undefined;
  private readonly tokenCache = new Map<string, Promise<number[]>>();

  private constructor(
    server: LlamaServer,
    readonly modelHash: string,
    readonly files: string[],
    private readonly restart: () => Promise<LlamaServer>,
  ) {
    this.server = server;
  }

  static async start(spec: LlamaModelSpec, options: { env: Environment; binaries: LlamaBinaries | undefined; logFile?: string }): Promise<LlamaRunner> {
    for (const [field, file] of [['model', spec.model], ['mmproj', spec.mmproj]] as const) {
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
        throw new PerceiveError('llama-bin-missing', 'llama-server is not built', { hint: 'run `npx perceive setup` (or set LLAMA_SERVER_BIN)' });
      }
      return LlamaServer.start({
        bin: options.binaries.server,
        model: spec.model,
        mmproj: spec.mmproj,
        threads: spec.threads ?? options.env.threads,
        contextSize: spec.context_size,
        slots: spec.slots,
        extraArgs: spec.server_args,
        ...(options.logFile ? { logFile: options.logFile } : {}),
      });
    };
    return new LlamaRunner(await launch(), modelHash, [spec.model, spec.mmproj], launch);
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

  /** Restarts a server that died (a crash, the OOM killer) before the next call. */
  private async live(): Promise<LlamaServer> {
    if (!this.server.running) this.server = await this.restart();
    return this.server;
  }

  async stop(): Promise<void> {
    await this.server.stop();
  }

  async tokenize(text: string, parseSpecial = false): Promise<number[]> {
    const key = `${parseSpecial ? 1 : 0}\u0000${text}`;
    let p = this.tokenCache.get(key);
    if (!p) {
      p = this.live().then((s) => s.client.tokenize(text, { addSpecial: false, parseSpecial }).then((r) => r.ids));
      this.tokenCache.set(key, p);
      p.catch(() => this.tokenCache.delete(key));
    }
    return p;
  }

  private async vocabSize(): Promise<number> {
    if (this.nVocab === undefined) {
      const info = await (await this.live()).client.modelInfo();
      if (!info.nVocab) throw new PerceiveError('bad-server-answer', '/v1/models did not report n_vocab');
      this.nVocab = info.nVocab;
    }
    return this.nVocab;
  }

  /** The model's end-of-sequence token id (LLaVA-1.5: "</s>", id 2). */
  async eos(): Promise<number> {
    if (this.eosId === undefined) {
      const server = await this.live();
      const text = server.props.eosToken ?? '</s>';
      const ids = await this.tokenize(text, true);
      if (ids.length !== 1) throw new PerceiveError('tokenizer', `the EOS token text ${JSON.stringify(text)} does not tokenize to one token`);
      this.eosId = ids[0]!;
    }
    return this.eosId;
  }

  private withMarkers(prompt: string): string {
    return prompt.split(IMAGE_PLACEHOLDER).join(this.server.marker);
  }

  /**
   * log P(token | prompt) for each wanted token id at the next position. Asks for the top
   * candidates first; if a wanted token is not among them, asks again for the full vocabulary.
   * Never approximates a missing probability.
   */
  async nextTokenLogprobs(prompt: string, images: Buffer[], wanted: number[]): Promise<{ logprobs: number[]; timings: CallTimings[] }> {
    const timings: CallTimings[] = [];
    const ask = async (nProbs: number): Promise<CompletionResult> => {
      const server = await this.live();
      const r = await server.client.completion({
        prompt: this.withMarkers(prompt),
        images,
        nPredict: 1,
        nProbs,
        temperature: 0,
        cachePrompt: true,
      });
      timings.push(r.timings);
      return r;
    };
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
    options: { appendEos: boolean; alternatives?: string[] },
  ): Promise<ContinuationScore> {
    const parts = context.split(IMAGE_PLACEHOLDER);
    if (parts.length - 1 !== images.length) {
      throw new PerceiveError('prompt', `the prompt has ${parts.length - 1} image placeholders for ${images.length} images`);
    }
    const tail = parts[parts.length - 1]!;
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
    const targets = options.appendEos ? [...answerIds, await this.eos()] : answerIds;

    const tokenLogprobs: number[] = [];
    const timings: CallTimings[] = [];
    let alternativeLogprobs: number[] = [];
    for (let k = 0; k < targets.length; k++) {
      // The text whose tokens are context + targets[0..k).
      let prefix = '';
      if (k === answerIds.length) prefix = continuation;
      else if (k > 0) {
        prefix = await (await this.live()).client.detokenize(answerIds.slice(0, k));
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
