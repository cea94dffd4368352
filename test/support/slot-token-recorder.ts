import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

/** One /completion or /embeddings call as the server evaluated it. */
export interface RecordedCall {
  endpoint: '/completion' | '/embeddings';
  /** the prompt text sent (prompt_string of a multimodal prompt, or the plain prompt) */
  prompt: string;
  images: number;
  /** the token ids of the prompt in slot 0 after the call; -1 (LLAMA_TOKEN_NULL) where image tokens are */
  evaluated: number[];
}

/**
 * The token ids llama-server really evaluated, read back from the server itself: a pass-through
 * HTTP proxy in front of a real llama-server (started with `--slot-save-path DIR` and one slot).
 * After each /completion or /embeddings answer it asks the server to save slot 0
 * (POST /slots/0?action=save) and reads the token list from the saved file: llama.cpp's
 * llama_state_seq_save_file header (magic, version, n) and then the slot's serialised
 * server_tokens (tools/server/server-common.cpp `server_tokens::serialize`: LLAMA_TOKEN_NULL,
 * format version 1, the token count, the tokens with -1 for each image token, then the media).
 * For /completion the list is cut to `tokens_evaluated` (the prompt without the generated token).
 */
export class SlotTokenRecorder {
  readonly calls: RecordedCall[] = [];
  private server: http.Server | undefined;
  private saves = 0;
  /** /completion and /embeddings calls pass one at a time, so no other call runs in the slot before it is saved. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly upstream: string,
    private readonly slotDir: string,
  ) {}

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const run = () => this.forward(req, body);
        const recorded = req.url === '/completion' || req.url === '/embeddings';
        const done = recorded ? this.queue.then(run, run) : run();
        if (recorded) this.queue = done.catch(() => undefined);
        done.then(
          ({ status, headers, body }) => {
            res.writeHead(status, headers);
            res.end(body);
          },
          (error: unknown) => {
            res.writeHead(502, { 'content-type': 'application/json' });
            res.end(JSON.stringify({ error: { message: String(error) } }));
          },
        );
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async forward(req: http.IncomingMessage, body: Buffer): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> {
    const url = `${this.upstream}${req.url ?? '/'}`;
    const answer = await fetch(url, {
      method: req.method,
      headers: { 'content-type': req.headers['content-type'] ?? 'application/json' },
      ...(req.method === 'GET' || req.method === 'HEAD' ? {} : { body: new Uint8Array(body) }),
    });
    const out = Buffer.from(await answer.arrayBuffer());
    const endpoint = req.url === '/completion' || req.url === '/embeddings' ? req.url : undefined;
    if (endpoint && answer.ok) await this.record(endpoint, JSON.parse(body.toString('utf8')), JSON.parse(out.toString('utf8')));
    return { status: answer.status, headers: { 'content-type': answer.headers.get('content-type') ?? 'application/json' }, body: out };
  }

  private async record(endpoint: '/completion' | '/embeddings', request: Record<string, unknown>, answer: unknown): Promise<void> {
    const field = endpoint === '/completion' ? request.prompt : (request.content as unknown[]);
    const one = Array.isArray(field) ? field : [field];
    if (one.length !== 1) throw new Error(`the recorder reads one prompt per call, got ${one.length}`);
    const p = one[0] as string | { prompt_string: string; multimodal_data: string[] };
    const prompt = typeof p === 'string' ? p : p.prompt_string;
    const images = typeof p === 'string' ? 0 : p.multimodal_data.length;
    let evaluated = await this.saveSlot();
    if (endpoint === '/completion') evaluated = evaluated.slice(0, (answer as { tokens_evaluated: number }).tokens_evaluated);
    this.calls.push({ endpoint, prompt, images, evaluated });
  }

  private async saveSlot(): Promise<number[]> {
    const filename = `slot-${this.saves++}.bin`;
    const r = await fetch(`${this.upstream}/slots/0?action=save`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ filename }),
    });
    if (!r.ok) throw new Error(`slot save failed: ${r.status} ${await r.text()}`);
    const file = path.join(this.slotDir, filename);
    const buf = fs.readFileSync(file);
    fs.rmSync(file);
    const i32 = (k: number) => buf.readInt32LE(k * 4);
    // [magic, version, n_packed] then packed: [-1, 1, n_tokens, tokens…]
    if (i32(3) !== -1 || i32(4) !== 1) throw new Error(`unexpected slot file layout in ${filename}: ${i32(3)}, ${i32(4)}`);
    const n = i32(5);
    return Array.from({ length: n }, (_, k) => i32(6 + k));
  }
}
