/**
 * llama-server on the tiny random LLaVA pair. Needs the llama-server binary built by the project's
 * setup (or LLAMA_SERVER_BIN); fails, rather than skips, when it is missing.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PerceiveError } from '../../src/core/errors.js';
import { buildTinyVocab, writeTinyLlava } from '../../src/fixtures/tiny-llava.js';
import { LlamaClient, LlamaServerHttpError } from '../../src/models/llama/llama-client.js';
import { readEnvironment } from '../../src/core/environment.js';
import { llamaServerLocation, llamaServerMissingHint } from '../../src/models/llama/llama-build.js';
import { LlamaServer, MEDIA_MARKER, type LlamaServerExit } from '../../src/models/llama/llama-server.js';

const BIN = llamaServerLocation(readEnvironment()).server;

async function solid(r: number, g: number, b: number, width = 64, height = 48): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r, g, b } } })
    .png()
    .toBuffer();
}

async function gradient(): Promise<Buffer> {
  const w = 64;
  const h = 64;
  const px = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 3;
      px[i] = x * 4;
      px[i + 1] = y * 4;
      px[i + 2] = 128;
    }
  }
  return sharp(px, { raw: { width: w, height: h, channels: 3 } })
    .jpeg()
    .toBuffer();
}

/** true while the process exists and is not a zombie (an orphan may wait a while to be reaped) */
function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc: trust kill(0)
  }
}

async function waitUntil(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return cond();
}

async function expectPerceiveError(promise: Promise<unknown>, code: string): Promise<PerceiveError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, `expected PerceiveError(${code})`).toBeInstanceOf(PerceiveError);
  const pe = error as PerceiveError;
  expect(pe.code, pe.message).toBe(code);
  return pe;
}

const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + v * b[i]!, 0);

let dir: string;
let pair: { model: string; mmproj: string };
let server: LlamaServer;
let client: LlamaClient;
let startMs: number;
let red: Buffer;
let blue: Buffer;
let grad: Buffer;
const vocab = buildTinyVocab();
const idOf = (piece: string) => vocab.tokens.indexOf(piece);

/** Fails (never skips) the suite when the binary is missing. */
function requireBin(): void {
  if (!existsSync(BIN)) {
    throw new Error(`llama-server binary not found at ${BIN}: ${llamaServerMissingHint(readEnvironment())}`);
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'perceive-llama-'));
  pair = await writeTinyLlava(join(dir, 'tiny'), { seed: 42 });
  [red, blue, grad] = await Promise.all([solid(255, 0, 0), solid(0, 0, 255), gradient()]);
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('llama-server on the tiny LLaVA pair', () => {
  beforeAll(async () => {
    requireBin();
    const t0 = performance.now();
    server = await LlamaServer.start({ bin: BIN, model: pair.model, mmproj: pair.mmproj, logFile: join(dir, 'server.log') });
    startMs = performance.now() - t0;
    client = server.client;
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('starts quickly and /props shows vision and the pinned marker', async () => {
    expect(startMs).toBeLessThan(30_000);
    console.log(`llama-server start (spawn → /health ok → /props checked): ${startMs.toFixed(0)} ms`);
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.pid).toBeGreaterThan(0);
    expect(server.marker).toBe(MEDIA_MARKER);
    expect(server.args).toContain('--embeddings');
    expect(server.args.join(' ')).toContain('--pooling last');
    const props = await client.props();
    expect(props.vision).toBe(true);
    expect(props.mediaMarker).toBe('<__media__>');
    expect(props.nCtx).toBe(4096);
    expect(props.totalSlots).toBe(1);
    expect(props.modelPath).toBe(pair.model);
    expect(props.eosToken).toBe('</s>');
    expect(props.bosToken).toBe('<s>');
    expect(props.buildInfo).toMatch(/^b\d+-[0-9a-f]+$/);
    expect(props.chatTemplate).toContain('ASSISTANT:');
    expect(await client.health()).toEqual({ status: 'ok' });
    const info = await client.modelInfo();
    expect(info.nVocab).toBe(vocab.tokens.length);
    expect(info.nEmbd).toBe(64);
    expect(info.capabilities).toContain('multimodal');
    expect(server.logTail(200)).toContain('listening on http://127.0.0.1:');
    expect(await readFile(join(dir, 'server.log'), 'utf8')).toContain('load_model');
  });

  it('tokenizes answer words into single tokens', async () => {
    const words = [' Yes', ' No', ' A', ' B', ' C', ' D', ' 1', ' 2'];
    for (const w of words) {
      const r = await client.tokenize(w, { addSpecial: false, withPieces: true });
      expect(r.ids, JSON.stringify(w)).toEqual([idOf('\u2581' + w.slice(1))]);
      expect(r.pieces).toEqual([w]);
    }
    expect(idOf('▁Yes')).toBe(417);
    expect(idOf('▁No')).toBe(418);
    expect((await client.tokenize('</s>', { parseSpecial: true })).ids).toEqual([2]);
    expect((await client.tokenize('Yes', { addSpecial: true })).ids[0]).toBe(1); // BOS
    const text = 'USER: What is on the left of the image?\nASSISTANT: A red cube {x} ~ é';
    const ids = (await client.tokenize(text)).ids;
    expect(ids).toContain(idOf('▁left'));
    expect(ids).toContain(idOf('▁image'));
    expect(ids).toContain(3 + 0x0a); // "\n" is the byte token <0x0A>
    expect(await client.detokenize(ids)).toBe(text);
    expect(await client.detokenize([417, 418])).toBe(' Yes No');
  });

  it('completes with one image: n_probs, 16 image tokens, deterministic, cached', async () => {
    const before = 'USER: ';
    const after = '\nIs the red cube on the left of the ball? Answer:';
    const prompt = `${before}${MEDIA_MARKER}${after}`;
    const textTokens = (await client.tokenize(before, { addSpecial: true })).ids.length + (await client.tokenize(after)).ids.length;

    const a = await client.completion({ prompt, images: [red], nPredict: 1, nProbs: 10, temperature: 0 });
    expect(a.tokensEvaluated).toBe(textTokens + 16);
    expect(a.timings.promptTokens).toBe(textTokens + 16);
    expect(a.postSampling).toBe(false);
    expect(a.probabilities).toHaveLength(1);
    const p = a.probabilities[0]!;
    expect(p.top).toHaveLength(10);
    const sum = p.top.reduce((s, t) => s + Math.exp(t.logprob), 0);
    expect(sum).toBeLessThanOrEqual(1 + 1e-6);
    expect(sum).toBeGreaterThan(0.2);
    for (let i = 1; i < p.top.length; i++) expect(p.top[i - 1]!.logprob).toBeGreaterThanOrEqual(p.top[i]!.logprob);
    // temperature 0: the generated token is the most probable one
    expect(a.tokens).toEqual([p.top[0]!.id]);
    expect(p.id).toBe(p.top[0]!.id);
    expect(a.content).toBe(p.top[0]!.token);
    expect(a.stopType).toBe('limit');

    const b = await client.completion({ prompt, images: [red], nPredict: 1, nProbs: 10, temperature: 0 });
    expect(b.timings.cachedTokens).toBeGreaterThan(0);
    expect(b.timings.cachedTokens).toBe(textTokens + 16 - 1); // the last token is always re-evaluated
    // A cached prefix evaluates the prompt in other batches than a fresh one: the numbers agree to
    // float32 rounding (~1e-7), and are bit-identical between calls with the same cache state.
    expect(b.probabilities[0]!.top.map((t) => t.id)).toEqual(p.top.map((t) => t.id));
    b.probabilities[0]!.top.forEach((t, i) => expect(t.logprob).toBeCloseTo(p.top[i]!.logprob, 5));
    const b2 = await client.completion({ prompt, images: [red], nPredict: 1, nProbs: 10, temperature: 0 });
    expect(b2.timings.cachedTokens).toBe(b.timings.cachedTokens);
    expect(b2.probabilities[0]!.top).toEqual(b.probabilities[0]!.top);

    // without the prompt cache: the same numbers
    const c = await client.completion({ prompt, images: [red], nPredict: 1, nProbs: 10, temperature: 0, cachePrompt: false });
    expect(c.timings.cachedTokens).toBe(0);
    c.probabilities[0]!.top.forEach((t, i) => {
      expect(t.id).toBe(p.top[i]!.id);
      expect(t.logprob).toBeCloseTo(p.top[i]!.logprob, 5);
    });

    // another image changes the distribution
    const d = await client.completion({ prompt, images: [grad], nPredict: 1, nProbs: 10, temperature: 0 });
    expect(d.probabilities[0]!.top).not.toEqual(p.top);
  });

  it('gives ▁Yes and ▁No non-degenerate, image-dependent probabilities', async () => {
    const prompt = `USER: ${MEDIA_MARKER}\nIs it red? Answer:`;
    const full = vocab.tokens.length;
    const ratios: number[] = [];
    for (const img of [red, blue, grad]) {
      const r = await client.completion({ prompt, images: [img], nProbs: full, temperature: 0 });
      const top = r.probabilities[0]!.top;
      expect(top).toHaveLength(full);
      expect(top.reduce((s, t) => s + t.prob, 0)).toBeCloseTo(1, 4);
      const yes = top.find((t) => t.id === idOf('▁Yes'))!.prob;
      const no = top.find((t) => t.id === idOf('▁No'))!.prob;
      expect(yes).toBeGreaterThan(0.005);
      expect(no).toBeGreaterThan(0.005);
      expect(yes).toBeLessThan(0.9);
      expect(no).toBeLessThan(0.9);
      ratios.push(yes / (yes + no));
    }
    expect(Math.max(...ratios) - Math.min(...ratios)).toBeGreaterThan(0.01);
  });

  it('scores letters with a grammar and post-sampling probabilities', async () => {
    const r = await client.completion({
      prompt: `USER: ${MEDIA_MARKER}\nWhat color is it? Options: A red B blue C green D gray\nAnswer:`,
      images: [blue],
      grammar: 'root ::= " A" | " B" | " C" | " D"',
      postSamplingProbs: true,
      temperature: 1,
      topK: 0,
      topP: 1,
      minP: 0,
      nProbs: 10,
      seed: 1,
    });
    expect(r.postSampling).toBe(true);
    const top = r.probabilities[0]!.top;
    const letters = top.filter((t) => [' A', ' B', ' C', ' D'].includes(t.token));
    expect(letters.map((t) => t.token).sort()).toEqual([' A', ' B', ' C', ' D']);
    const total = top.reduce((s, t) => s + t.prob, 0);
    expect(total).toBeLessThanOrEqual(1 + 1e-6);
    for (const t of top) expect(t.logprob).toBeCloseTo(Math.log(t.prob), 6);
  });

  it('handles two images in one prompt', async () => {
    const parts = ['USER: Image 1: ', '\nImage 2: ', '\nWhich one is red? Options: A first B second\nAnswer:'];
    const prompt = `${parts[0]}${MEDIA_MARKER}${parts[1]}${MEDIA_MARKER}${parts[2]}`;
    let textTokens = (await client.tokenize(parts[0]!, { addSpecial: true })).ids.length;
    textTokens += (await client.tokenize(parts[1]!)).ids.length + (await client.tokenize(parts[2]!)).ids.length;
    const ab = await client.completion({ prompt, images: [red, blue], nProbs: 5, temperature: 0 });
    expect(ab.tokensEvaluated).toBe(textTokens + 32);
    const ba = await client.completion({ prompt, images: [blue, red], nProbs: 5, temperature: 0 });
    expect(ba.tokensEvaluated).toBe(textTokens + 32);
    expect(ba.probabilities[0]!.top).not.toEqual(ab.probabilities[0]!.top);
    // the first image's prefix is reused when only the second image changes
    const bb = await client.completion({ prompt, images: [blue, blue], nProbs: 5, temperature: 0 });
    expect(bb.timings.cachedTokens).toBeGreaterThanOrEqual((await client.tokenize(parts[0]!, { addSpecial: true })).ids.length + 16);
  });

  it('checks the marker count before sending, and reports server errors', async () => {
    await expectPerceiveError(client.completion({ prompt: 'USER: no marker', images: [red] }), 'bad-prompt');
    await expectPerceiveError(client.completion({ prompt: `${MEDIA_MARKER}${MEDIA_MARKER}`, images: [red] }), 'bad-prompt');
    const error = await expectPerceiveError(client.completion({ prompt: 'x', grammar: 'root ::= (' }), 'server-error');
    expect(error).toBeInstanceOf(LlamaServerHttpError);
    expect((error as LlamaServerHttpError).status).toBe(400);
    expect(error.message).toMatch(/\/completion answered HTTP 400: .+/);
    const unreachable = new LlamaClient('http://127.0.0.1:1', { timeoutMs: 2000 });
    await expectPerceiveError(unreachable.health(), 'server-unreachable');
  });

  it('returns unit-norm last-token embeddings that depend on the image', async () => {
    const prompt = `${MEDIA_MARKER}\nSummarize above image in one word:`;
    const [er, eg, et, er2] = await client.embeddings([
      { prompt, images: [red] },
      { prompt, images: [grad] },
      { prompt: 'Summarize above text in one word:' },
      { prompt, images: [red] },
    ]);
    for (const e of [er!, eg!, et!]) {
      expect(e).toBeInstanceOf(Float32Array);
      expect(e.length).toBe(64);
      expect(Math.sqrt(dot(e, e))).toBeCloseTo(1, 4);
    }
    expect(Array.from(er2!)).toEqual(Array.from(er!));
    expect(dot(er!, eg!)).toBeLessThan(0.9999);
    expect(dot(er!, et!)).toBeLessThan(0.9999);
    const [raw] = await client.embeddings([{ prompt, images: [red] }], { normalize: -1 });
    // the state after the final RMSNorm (weights 1): norm sqrt(64)
    expect(Math.sqrt(dot(raw!, raw!))).toBeCloseTo(8, 1);
    const n = Math.sqrt(dot(raw!, raw!));
    raw!.forEach((v, i) => expect(v / n).toBeCloseTo(er![i]!, 4));
  });

  it('attach() uses a running server and leaves it alone on stop()', async () => {
    const attached = await LlamaServer.attach(server.url + '/', { requireVision: true });
    expect(attached.managed).toBe(false);
    expect(attached.pid).toBeUndefined();
    expect(attached.marker).toBe(MEDIA_MARKER);
    expect((await attached.client.tokenize(' Yes')).ids).toEqual([417]);
    expect(await attached.stop()).toBeUndefined();
    expect(pidAlive(server.pid!)).toBe(true);
    const viaEnv = await LlamaServer.startOrAttach({ bin: '/nonexistent', model: '/nonexistent' }, { LLAMA_SERVER_URL: server.url });
    expect(viaEnv.url).toBe(server.url);
    await expectPerceiveError(LlamaServer.attach('http://127.0.0.1:1'), 'server-unreachable');
  });
});

describe('llama-server lifecycle', () => {
  beforeAll(requireBin);

  it('stop() ends the process', async () => {
    const s = await LlamaServer.start({ bin: BIN, model: pair.model, mmproj: pair.mmproj });
    const pid = s.pid!;
    expect(pidAlive(pid)).toBe(true);
    const exits: LlamaServerExit[] = [];
    s.onExit((e) => exits.push(e));
    const exit = await s.stop();
    expect(exit?.expected).toBe(true);
    expect(s.running).toBe(false);
    expect(await waitUntil(() => !pidAlive(pid), 2000)).toBe(true);
    expect(exits).toHaveLength(1);
    expect(exits[0]!.expected).toBe(true);
    await expectPerceiveError(s.client.health({ timeoutMs: 2000 }), 'server-unreachable');
  });

  it('reports an unexpected exit through onExit', async () => {
    const s = await LlamaServer.start({ bin: BIN, model: pair.model });
    expect(s.props.vision).toBe(false);
    const exited = new Promise<LlamaServerExit>((resolve) => s.onExit(resolve));
    process.kill(s.pid!, 'SIGKILL');
    const exit = await exited;
    expect(exit.expected).toBe(false);
    expect(exit.signal).toBe('SIGKILL');
    expect(s.running).toBe(false);
    expect(exit.logTail).toContain('listening on http://127.0.0.1:');
  });

  it('fails with the log tail when the mmproj is not a CLIP file', async () => {
    const error = await expectPerceiveError(LlamaServer.start({ bin: BIN, model: pair.model, mmproj: pair.model }), 'server-start-failed');
    expect(error.message).toContain('exited during start-up');
    expect(error.message).toContain('Failed to load CLIP model');
    expect(error.message).toContain('last 30 lines of the llama-server log');
  });

  it('names missing files', async () => {
    const missing = join(dir, 'missing-mmproj.gguf');
    const e1 = await expectPerceiveError(LlamaServer.start({ bin: BIN, model: pair.model, mmproj: missing }), 'model-not-found');
    expect(e1.message).toContain(missing);
    const e2 = await expectPerceiveError(LlamaServer.start({ bin: BIN, model: join(dir, 'nope.gguf') }), 'model-not-found');
    expect(e2.message).toContain('nope.gguf');
    const e3 = await expectPerceiveError(LlamaServer.start({ bin: join(dir, 'no-llama-server'), model: pair.model }), 'llama-server-not-found');
    expect(e3.hint).toContain('LLAMA_SERVER_BIN');
  });

  it('fails with the log tail when the server does not become ready in time', async () => {
    const error = await expectPerceiveError(LlamaServer.start({ bin: BIN, model: pair.model, startTimeoutMs: 1 }), 'server-start-failed');
    expect(error.message).toContain('not ready after 1 ms');
  });

  it('kills its servers when the parent is terminated, exits, or is SIGKILLed', async () => {
    const script = `
      import { LlamaServer } from ${JSON.stringify(resolve('src/models/llama/llama-server.ts'))};
      const s = await LlamaServer.start({ bin: process.env.T_BIN, model: process.env.T_MODEL });
      console.log('READY ' + s.pid);
      if (process.env.T_MODE === 'exit') process.exit(3);
      setInterval(() => {}, 1000);
    `;
    // 'sigkill': no handler runs; the kernel's parent-death signal (setpriv --pdeathsig) stops the server.
    for (const mode of ['signal', 'exit', 'sigkill'] as const) {
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        env: { ...process.env, T_BIN: BIN, T_MODEL: pair.model, T_MODE: mode },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.on('exit', (code, signal) => res({ code, signal })));
      let serverPid = 0;
      await waitUntil(() => {
        const m = /READY (\d+)/.exec(out);
        if (m) serverPid = Number(m[1]);
        return serverPid > 0 || child.exitCode !== null;
      }, 30_000);
      expect(serverPid, `child output: ${out}\n${err}`).toBeGreaterThan(0);
      if (mode !== 'exit') {
        expect(pidAlive(serverPid)).toBe(true);
        child.kill(mode === 'signal' ? 'SIGTERM' : 'SIGKILL');
      }
      const result = await closed;
      if (mode === 'signal')
        expect(result.signal).toBe('SIGTERM'); // default behaviour re-raised
      else if (mode === 'sigkill') expect(result.signal).toBe('SIGKILL');
      else expect(result.code).toBe(3);
      expect(await waitUntil(() => !pidAlive(serverPid), 10_000), `server ${serverPid} still alive (${mode})`).toBe(true);
    }
  });

  it('add_space_prefix=true behaves like the Llama-2 tokenizer', async () => {
    const spaced = await writeTinyLlava(join(dir, 'spaced'), { seed: 42, addSpacePrefix: true });
    const s = await LlamaServer.start({ bin: BIN, model: spaced.model, mmproj: spaced.mmproj });
    try {
      expect((await s.client.tokenize('Yes')).ids).toEqual([417]);
      expect((await s.client.tokenize(' Yes')).ids).toEqual([idOf('\u2581'), 417]);
    } finally {
      await s.stop();
    }
  });
});

describe('LlamaClient answer validation (fake fetch, no server)', () => {
  const fake = (status: number, body: unknown): typeof fetch =>
    (async () =>
      new Response(typeof body === 'string' ? body : JSON.stringify(body), {
        status,
        headers: { 'content-type': 'application/json' },
      })) as typeof fetch;

  it('names the endpoint and the field of a bad answer', async () => {
    const c = new LlamaClient('http://x', {
      fetch: fake(200, { default_generation_settings: { n_ctx: 4096 }, modalities: { vision: 'yes' } }),
    });
    const e = await expectPerceiveError(c.props(), 'bad-server-answer');
    expect(e.message).toContain('/props');
    expect(e.message).toContain('modalities.vision');
    const c2 = new LlamaClient('http://x', { fetch: fake(200, [{ index: 0, embedding: [['a']] }]) });
    const e2 = await expectPerceiveError(c2.embeddings([{ prompt: 'hi' }]), 'bad-server-answer');
    expect(e2.message).toContain('/embeddings');
    expect(e2.message).toMatch(/field \[0\]\.embedding/);
    const c3 = new LlamaClient('http://x', { fetch: fake(200, { content: 'x', timings: {} }) });
    const e3 = await expectPerceiveError(c3.completion({ prompt: 'hi' }), 'bad-server-answer');
    expect(e3.message).toContain('/completion');
    const c4 = new LlamaClient('http://x', { fetch: fake(200, 'not json') });
    await expectPerceiveError(c4.health(), 'bad-server-answer');
  });

  it('maps HTTP errors to server-error with the server message', async () => {
    const c = new LlamaClient('http://x', {
      fetch: fake(400, { error: { code: 400, message: 'Failed to tokenize prompt', type: 'invalid_request_error' } }),
    });
    const e = await expectPerceiveError(c.tokenize('x'), 'server-error');
    expect(e).toBeInstanceOf(LlamaServerHttpError);
    expect((e as LlamaServerHttpError).status).toBe(400);
    expect(e.message).toBe('llama-server /tokenize answered HTTP 400: Failed to tokenize prompt');
  });

  it('accepts flat or nested embeddings, in index order', async () => {
    const c = new LlamaClient('http://x', {
      fetch: fake(200, [
        { index: 1, embedding: [3, 4] },
        { index: 0, embedding: [[1, 2]] },
      ]),
    });
    const [a, b] = await c.embeddings([{ prompt: 'a' }, { prompt: 'b' }]);
    expect(Array.from(a!)).toEqual([1, 2]);
    expect(Array.from(b!)).toEqual([3, 4]);
  });

  it('times out', async () => {
    const hang = ((_url: unknown, init?: RequestInit) =>
      new Promise((_res, rej) => init?.signal?.addEventListener('abort', () => rej(init.signal!.reason)))) as typeof fetch;
    const c = new LlamaClient('http://x', { fetch: hang, timeoutMs: 50 });
    const e = await expectPerceiveError(c.health(), 'server-timeout');
    expect(e.message).toContain('50 ms');
  });
});
