import { createHash } from 'node:crypto';

/** One /completion call with an image, as llama-server answered it. */
export interface ImageCall {
  server: string;
  image: string;
  /** sha256 of the text before the image: prompts that differ there cannot share the image's KV. */
  before: string;
  /** Prompt tokens (text and image) and how many of them came from the slot's cache. */
  promptTokens: number;
  cachedTokens: number;
  /** Where the first image's tokens start and how many there are. */
  imageStart: number;
  imageTokens: number;
  /** True when some of the image's tokens were evaluated (not all cached): an image prefill. */
  prefill: boolean;
}

interface PromptField {
  prompt_string: string;
  multimodal_data: string[];
}

/**
 * Wraps globalThis.fetch (before any LlamaClient is made) so every /completion call that carries
 * an image is recorded with llama-server's own timings (`cache_n`, `prompt_n`). The image's
 * position is found by tokenizing the text before the media marker (and after it) on the same
 * server; a call is an image prefill when `cache_n` stops before the image's last token.
 */
export class PrefillCounter {
  readonly calls: ImageCall[] = [];
  private readonly original = globalThis.fetch;
  private readonly tokenCounts = new Map<string, number>();

  constructor(private readonly marker: string) {}

  install(): void {
    const original = this.original;
    globalThis.fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
      const response = await original(input, init);
      const url = String(input instanceof Request ? input.url : input);
      if (!url.endsWith('/completion') || typeof init?.body !== 'string' || !response.ok) return response;
      const body = JSON.parse(init.body) as { prompt?: unknown };
      const prompt = body.prompt as PromptField | string | undefined;
      if (!prompt || typeof prompt === 'string' || !Array.isArray(prompt.multimodal_data) || prompt.multimodal_data.length === 0) return response;
      const answer = (await response.clone().json()) as { timings: { cache_n: number; prompt_n: number } };
      await this.record(url.slice(0, -'/completion'.length), prompt, answer.timings);
      return response;
    };
  }

  uninstall(): void {
    globalThis.fetch = this.original;
  }

  private async count(server: string, text: string, addSpecial: boolean): Promise<number> {
    const key = `${server}\u0000${addSpecial}\u0000${text}`;
    let n = this.tokenCounts.get(key);
    if (n === undefined) {
      const r = await this.original(`${server}/tokenize`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ content: text, add_special: addSpecial, parse_special: true }),
      });
      n = ((await r.json()) as { tokens: unknown[] }).tokens.length;
      this.tokenCounts.set(key, n);
    }
    return n;
  }

  private async record(server: string, prompt: PromptField, t: { cache_n: number; prompt_n: number }): Promise<void> {
    const parts = prompt.prompt_string.split(this.marker);
    if (parts.length < 2) throw new Error(`prompt without the media marker ${this.marker}: ${prompt.prompt_string.slice(0, 80)}`);
    const before = await this.count(server, parts[0]!, true);
    let text = before;
    for (const p of parts.slice(1)) text += await this.count(server, p, false);
    const promptTokens = t.cache_n + t.prompt_n;
    const imageTokens = Math.round((promptTokens - text) / prompt.multimodal_data.length);
    this.calls.push({
      server,
      image: createHash('sha256').update(prompt.multimodal_data[0]!).digest('hex'),
      before: createHash('sha256').update(parts[0]!).digest('hex'),
      promptTokens,
      cachedTokens: t.cache_n,
      imageStart: before,
      imageTokens,
      prefill: t.cache_n < before + imageTokens,
    });
  }

  /**
   * Image prefills, and the ideal: one per unique (image, server); `idealPerPrefix`: one per
   * unique (image, server, text before the image), the least possible when prompts differ before it.
   */
  summary(): { calls: number; prefills: number; ideal: number; idealPerPrefix: number } {
    return {
      calls: this.calls.length,
      prefills: this.calls.filter((c) => c.prefill).length,
      ideal: new Set(this.calls.map((c) => `${c.server}\u0000${c.image}`)).size,
      idealPerPrefix: new Set(this.calls.map((c) => `${c.server}\u0000${c.image}\u0000${c.before}`)).size,
    };
  }

  reset(): void {
    this.calls.length = 0;
  }
}
