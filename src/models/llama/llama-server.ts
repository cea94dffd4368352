/**
 * Starts and stops llama.cpp's llama-server as a child process (one server per model), or attaches
 * to one that is already running (LLAMA_SERVER_URL).
 *
 * - The child is spawned with an argument array (no shell), on 127.0.0.1 and a free port, with
 *   `--embeddings --pooling last` so one process serves completions and last-token embeddings.
 * - LLAMA_MEDIA_MARKER pins the media marker (otherwise it is random per process).
 * - Start-up waits for GET /health, then checks GET /props (vision when an mmproj is given, marker).
 * - The last lines of the child's output are kept in memory, so a failed start says why.
 * - Live children are killed when the parent exits, including on SIGINT/SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { childEnvironment } from '../../core/child-env.js';
import { existsSync } from 'node:fs';
import { ServerLogFile } from './server-log-file.js';
import { stat } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { availableParallelism } from 'node:os';
import { type ErrorCode, PerceiveError, errorMessage } from '../../core/errors.js';
import { readEnvironment } from '../../core/environment.js';
import { llamaServerMissingHint } from './llama-build.js';
import { LlamaClient, MEDIA_MARKER, type LlamaProps } from './llama-client.js';

export { MEDIA_MARKER } from './llama-client.js';

export interface LlamaServerStartOptions {
  /** path of the llama-server binary */
  bin: string;
  /** text model GGUF */
  model: string;
  /** multimodal projector GGUF */
  mmproj?: string;
  /** -t (default: os.availableParallelism()) */
  threads?: number;
  /** -c, total context over all slots (default 4096) */
  contextSize?: number;
  /** -np (default 1) */
  slots?: number;
  /** -ngl: layers on the GPU, a number, 'auto' or 'all' (default: llama.cpp's, auto) */
  gpuLayers?: number | 'auto' | 'all';
  /** --device: devices to offload to (default: llama.cpp's, every GPU) */
  devices?: readonly string[];
  /** appended to the command line as is */
  extraArgs?: string[];
  /** how long loading may take until /health is ok (default 180 s) */
  startTimeoutMs?: number;
  /** also append the child's output to this file */
  logFile?: string;
  /** request timeout of the server's client (default 10 min) */
  requestTimeoutMs?: number;
  /** extra environment for the child */
  env?: Record<string, string>;
  /** `--host` in extraArgs is refused unless this is true (the config's `allow_host_override`) */
  allowHostOverride?: boolean;
}

/** The value of `--name v` or `--name=v` in an argument list (the last one wins, as llama.cpp reads it). */
export function argValue(args: readonly string[], ...names: string[]): string | undefined {
  let value: string | undefined;
  args.forEach((a, i) => {
    for (const n of names) {
      if (a === n && i + 1 < args.length) value = args[i + 1];
      else if (a.startsWith(`${n}=`)) value = a.slice(n.length + 1);
    }
  });
  return value;
}

/** llama-server's command line (without the binary) for these options, on host:port. */
export function serverArgs(options: Omit<LlamaServerStartOptions, 'bin'>, host: string, port: number): string[] {
  return [
    '-m',
    options.model,
    ...(options.mmproj !== undefined ? ['--mmproj', options.mmproj] : []),
    '--host',
    host,
    '--port',
    String(port),
    '-t',
    String(options.threads ?? availableParallelism()),
    '-c',
    String(options.contextSize ?? 4096),
    '-np',
    String(options.slots ?? 1),
    ...(options.gpuLayers !== undefined ? ['-ngl', String(options.gpuLayers)] : []),
    ...(options.devices !== undefined ? ['--device', options.devices.join(',')] : []),
    '--embeddings',
    '--pooling',
    'last',
    ...(options.extraArgs ?? []),
  ];
}

/**
 * `server_args` may not move llama-server off 127.0.0.1 unless the config says so explicitly: a
 * model server on another interface answers anyone on the network.
 */
export function checkServerArgs(args: readonly string[], allowHostOverride: boolean): void {
  const host = argValue(args, '--host');
  if (host !== undefined && !allowHostOverride) {
    throw new PerceiveError('bad-config', `server_args sets --host ${host}: llama-server listens on 127.0.0.1 only`, {
      hint: 'set allow_host_override: true in the model spec to expose it on purpose',
    });
  }
}

export interface LlamaServerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** true when stop() (or the parent's exit) asked for it */
  expected: boolean;
  /** the last lines of the child's output */
  logTail: string;
}

export type LlamaServerExitListener = (exit: LlamaServerExit) => void;

const LOG_LINES_KEPT = 200;
const LOG_TAIL_LINES = 30;
const DEFAULT_START_TIMEOUT_MS = 180_000;
const DEFAULT_STOP_GRACE_MS = 5_000;
const PORT_RETRIES = 3;

/** Keeps the last N lines of a stream of chunks. */
class LineRing {
  private readonly lines: string[] = [];
  private partial = '';
  constructor(private readonly max: number) {}

  push(chunk: string): void {
    const text = this.partial + chunk;
    const parts = text.split(/\r?\n/);
    this.partial = parts.pop() ?? '';
    for (const line of parts) {
      this.lines.push(line);
      if (this.lines.length > this.max) this.lines.shift();
    }
    if (this.partial.length > 64_000) {
      this.lines.push(this.partial);
      this.partial = '';
      if (this.lines.length > this.max) this.lines.shift();
    }
  }

  tail(n: number): string {
    const all = this.partial ? [...this.lines, this.partial] : this.lines;
    return all.slice(-n).join('\n');
  }

  includes(re: RegExp): boolean {
    return this.lines.some((l) => re.test(l)) || re.test(this.partial);
  }
}

// ---------------------------------------------------------------------------------------------
// Global cleanup: kill live children when the parent goes away.

const liveServers = new Set<LlamaServer>();
/** Children still starting (not yet LlamaServer objects), killed too if the parent exits. */
const pendingChildren = new Set<{ killNow: () => void }>();
let handlersInstalled = false;

function killAllNow(): void {
  for (const server of liveServers) server.killNow();
  for (const pending of pendingChildren) pending.killNow();
}

function onParentExit(): void {
  killAllNow();
}

function onParentSignal(signal: NodeJS.Signals): void {
  killAllNow();
  // If we were the only listener, Node's default behaviour (exit) was suppressed by listening:
  // remove ourselves and re-raise the signal so the parent still terminates as it would have.
  if (process.listenerCount(signal) <= 1) {
    uninstallHandlers();
    process.kill(process.pid, signal);
  }
}

const signalHandlers: Partial<Record<NodeJS.Signals, () => void>> = {};

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', onParentExit);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const handler = () => onParentSignal(sig);
    signalHandlers[sig] = handler;
    process.on(sig, handler);
  }
}

function uninstallHandlers(): void {
  if (!handlersInstalled) return;
  handlersInstalled = false;
  process.off('exit', onParentExit);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const handler = signalHandlers[sig];
    if (handler) process.off(sig, handler);
    delete signalHandlers[sig];
  }
}

// ---------------------------------------------------------------------------------------------

async function assertFile(path: string, code: ErrorCode, what: string, hint?: string): Promise<void> {
  let ok = false;
  try {
    ok = (await stat(path)).isFile();
  } catch {
    ok = false;
  }
  if (!ok) throw new PerceiveError(code, `${what} not found: ${path}`, hint === undefined ? {} : { hint });
}

/** A free TCP port on 127.0.0.1 (the OS picks it; there is a small race until the child binds). */
/**
 * On Linux the server is started through util-linux's `setpriv --pdeathsig SIGKILL`, so the kernel
 * kills it when its parent dies even by SIGKILL (which no handler can catch: a SIGKILLed worker would
 * otherwise leave its llama-server running). setpriv execs the server, so the pid is the server's.
 * Elsewhere, or without setpriv, the server is spawned directly and the exit handlers stop it.
 */
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => process.platform === 'linux' && existsSync(p));

export function withParentDeathSignal(bin: string, args: string[]): [string, string[]] {
  return SETPRIV ? [SETPRIV, ['--pdeathsig', 'SIGKILL', '--', bin, ...args]] : [bin, args];
}

export function findFreePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen({ port: 0, host, exclusive: true }, () => {
      const address = srv.address();
      if (address === null || typeof address === 'string') {
        srv.close();
        reject(new Error('could not read the port of a listening socket'));
        return;
      }
      const port = address.port;
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class LlamaServer {
  readonly url: string;
  /** the media marker to put in prompts, once per image */
  readonly marker: string;
  /** a client for this server */
  readonly client: LlamaClient;
  /** false for a server attached with `attach()` (stop() then does nothing to it) */
  readonly managed: boolean;
  /** the command line (managed servers) */
  readonly args: readonly string[];
  /** props read at start-up */
  readonly props: LlamaProps;
  /** resolves when the child has exited (never for an attached server) */
  readonly exited: Promise<LlamaServerExit>;

  private readonly child: ChildProcess | undefined;
  private readonly log: LineRing;
  private readonly exitListeners = new Set<LlamaServerExitListener>();
  private exitInfo: LlamaServerExit | undefined;
  private stopping = false;

  private constructor(init: {
    url: string;
    marker: string;
    client: LlamaClient;
    props: LlamaProps;
    child?: ChildProcess;
    log?: LineRing;
    args?: readonly string[];
    exited?: Promise<LlamaServerExit>;
  }) {
    this.url = init.url;
    this.marker = init.marker;
    this.client = init.client;
    this.props = init.props;
    this.child = init.child;
    this.managed = init.child !== undefined;
    this.log = init.log ?? new LineRing(LOG_LINES_KEPT);
    this.args = init.args ?? [];
    this.exited = init.exited ?? new Promise<LlamaServerExit>(() => {});
  }

  /** pid of the child (undefined for an attached server) */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** true while the child runs (always true for an attached server) */
  get running(): boolean {
    return this.managed ? this.exitInfo === undefined : true;
  }

  /** how the child exited, once it has */
  get exitStatus(): LlamaServerExit | undefined {
    return this.exitInfo;
  }

  /** the last `lines` lines of the child's stdout/stderr */
  logTail(lines = LOG_TAIL_LINES): string {
    return this.log.tail(lines);
  }

  /**
   * Calls `listener` when the child exits (also when stop() ended it: see `expected`), e.g. to
   * restart it. Returns a function that removes the listener.
   */
  onExit(listener: LlamaServerExitListener): () => void {
    if (this.exitInfo) {
      const info = this.exitInfo;
      queueMicrotask(() => listener(info));
      return () => {};
    }
    this.exitListeners.add(listener);
    return () => this.exitListeners.delete(listener);
  }

  /** Starts a llama-server child and waits until it is ready and checked. */
  static async start(options: LlamaServerStartOptions): Promise<LlamaServer> {
    await assertFile(options.bin, 'llama-server-not-found', 'llama-server binary', llamaServerMissingHint(readEnvironment()));
    await assertFile(options.model, 'model-not-found', 'model file');
    if (options.mmproj !== undefined) await assertFile(options.mmproj, 'model-not-found', 'mmproj file');

    for (let attempt = 1; ; attempt++) {
      try {
        return await LlamaServer.startOnce(options);
      } catch (error) {
        if (error instanceof PortInUseError && attempt < PORT_RETRIES) continue;
        if (error instanceof PortInUseError) throw error.perceiveError;
        throw error;
      }
    }
  }

  private static async startOnce(options: LlamaServerStartOptions): Promise<LlamaServer> {
    checkServerArgs(options.extraArgs ?? [], options.allowHostOverride ?? false);
    const host = '127.0.0.1';
    const port = await findFreePort(host);
    const url = `http://${host}:${port}`;
    const args = serverArgs(options, host, port);
    const log = new LineRing(LOG_LINES_KEPT);
    // Bounded on disk (server-log-file.ts): per-request lines are left out, the file rotates.
    const logStream = options.logFile ? new ServerLogFile(options.logFile) : undefined;

    const [command, commandArgs] = withParentDeathSignal(options.bin, args);
    const child = spawn(command, commandArgs, {
      stdio: ['ignore', 'pipe', 'pipe'],
      // Only what llama-server needs (core/child-env.ts): never REDIS_URL or other credentials.
      env: childEnvironment(process.env, { ...options.env, LLAMA_MEDIA_MARKER: MEDIA_MARKER }),
    });
    const onData = (chunk: Buffer) => {
      log.push(chunk.toString('utf8'));
      logStream?.write(chunk.toString('utf8'));
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    // A running server never keeps the parent alive by itself: when nothing else is pending the
    // parent exits, and the 'exit' handler kills the child.
    child.unref();
    (child.stdout as Socket | null)?.unref();
    (child.stderr as Socket | null)?.unref();

    let spawnError: Error | undefined;
    let exitResolve!: (exit: LlamaServerExit) => void;
    const exited = new Promise<LlamaServerExit>((resolve) => (exitResolve = resolve));
    let server: LlamaServer | undefined;
    let exitedEarly: { code: number | null; signal: NodeJS.Signals | null } | undefined;

    child.once('error', (error) => {
      spawnError = error;
      // 'exit' may not follow a spawn error: settle here too
      const exit = { code: null, signal: null, expected: false, logTail: log.tail(LOG_TAIL_LINES) };
      exitedEarly ??= { code: null, signal: null };
      if (server) server.handleExit(exit);
      exitResolve(exit);
    });
    child.once('exit', (code, signal) => {
      exitedEarly = { code, signal };
      // give stdout/stderr a moment to flush their last lines into the ring
      setTimeout(() => {
        const exit: LlamaServerExit = {
          code,
          signal,
          expected: server?.stopping ?? false,
          logTail: log.tail(LOG_TAIL_LINES),
        };
        if (server) server.handleExit(exit);
        logStream?.end();
        exitResolve(exit);
      }, 20);
    });

    // A server started with --api-key wants it on every request but /health: the client sends it.
    const apiKey = argValue(options.extraArgs ?? [], '--api-key')?.split(',')[0];
    const client = new LlamaClient(url, { marker: MEDIA_MARKER, timeoutMs: options.requestTimeoutMs, apiKey });
    const startTimeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
    const started = Date.now();

    const killAndFail = async (code: ErrorCode, reason: string): Promise<never> => {
      if (child.exitCode === null && child.signalCode === null && !spawnError) {
        child.kill('SIGKILL');
      }
      await Promise.race([exited, sleep(2000)]);
      const tail = log.tail(LOG_TAIL_LINES);
      const message =
        `${reason}\ncommand: ${options.bin} ${args.join(' ')}` +
        (tail.trim() ? `\n--- last ${LOG_TAIL_LINES} lines of the llama-server log ---\n${tail}` : '\n(llama-server printed nothing)');
      throw new PerceiveError(code, message, options.logFile ? { hint: `full log: ${options.logFile}` } : {});
    };

    // Register early so a parent exit during loading kills the child too.
    const pending = { killNow: () => child.kill('SIGKILL') };
    pendingChildren.add(pending);
    installHandlers();
    try {
      // 1. wait for /health
      let delay = 25;
      for (;;) {
        if (spawnError) {
          return await killAndFail('server-start-failed', `could not run llama-server: ${spawnError.message}`);
        }
        if (exitedEarly) {
          await Promise.race([exited, sleep(500)]);
          if (log.includes(/couldn't bind|address already in use|bind.*failed/i)) {
            const err = await killAndFail('server-start-failed', `llama-server could not bind port ${port}`).catch((e: unknown) => e);
            throw new PortInUseError(err as PerceiveError);
          }
          const how = exitedEarly.signal ? `signal ${exitedEarly.signal}` : `exit code ${exitedEarly.code}`;
          return await killAndFail('server-start-failed', `llama-server exited during start-up (${how})`);
        }
        if (Date.now() - started > startTimeoutMs) {
          return await killAndFail('server-start-failed', `llama-server was not ready after ${startTimeoutMs} ms`);
        }
        let healthy = false;
        try {
          healthy = (await client.health({ timeoutMs: 5000 })).status === 'ok';
        } catch {
          // not listening yet, or 503 while loading
        }
        if (healthy) {
          // Make sure it was our child that answered, not another process that took the port in
          // the moment between findFreePort() and the child's bind: ours prints "model loaded"
          // right after it starts answering ok (and a child that failed to bind exits).
          const deadline = Date.now() + 2000;
          while (!log.includes(/model loaded|listening on /) && !exitedEarly && !spawnError && Date.now() < deadline) {
            await sleep(10);
          }
          if (!exitedEarly && !spawnError) break;
          continue;
        }
        await sleep(delay);
        delay = Math.min(delay * 2, 250);
      }

      // 2. check /props
      let props: LlamaProps;
      try {
        props = await client.props();
      } catch (error) {
        return await killAndFail('server-check', `llama-server /props failed: ${errorMessage(error)}`);
      }
      if (options.mmproj !== undefined && !props.vision) {
        return await killAndFail('mmproj-mismatch', `llama-server loaded ${options.mmproj} but reports no vision input (modalities.vision is false)`);
      }
      if (props.mediaMarker !== undefined && props.mediaMarker !== MEDIA_MARKER) {
        return await killAndFail(
          'server-check',
          `llama-server uses media marker ${props.mediaMarker}, not the pinned ${MEDIA_MARKER} (LLAMA_MEDIA_MARKER ignored?)`,
        );
      }

      server = new LlamaServer({
        url,
        marker: MEDIA_MARKER,
        client,
        props,
        child,
        log,
        args,
        exited,
      });
      if (exitedEarly) {
        // it died right after the checks
        return await killAndFail('server-start-failed', 'llama-server exited right after start-up');
      }
      liveServers.add(server);
      return server;
    } finally {
      pendingChildren.delete(pending);
      if (liveServers.size === 0 && pendingChildren.size === 0) uninstallHandlers();
    }
  }

  /**
   * Uses a server that is already running (e.g. LLAMA_SERVER_URL); the marker is read from /props.
   * stop() leaves such a server alone.
   */
  static async attach(url: string, options: { requireVision?: boolean; requestTimeoutMs?: number } = {}): Promise<LlamaServer> {
    const base = url.replace(/\/+$/, '');
    let client = new LlamaClient(base, { timeoutMs: options.requestTimeoutMs });
    try {
      await client.health({ timeoutMs: 10_000 });
    } catch (error) {
      throw new PerceiveError('server-unreachable', `no ready llama-server at ${base}: ${errorMessage(error)}`, {
        cause: error,
      });
    }
    const props = await client.props();
    if (options.requireVision && !props.vision) {
      throw new PerceiveError('mmproj-mismatch', `llama-server at ${base} has no vision input (started without --mmproj?)`);
    }
    const marker = props.mediaMarker ?? MEDIA_MARKER;
    client = client.with({ marker });
    return new LlamaServer({ url: base, marker, client, props });
  }

  /**
   * Attaches to LLAMA_SERVER_URL when it is set, else starts a server.
   */
  static async startOrAttach(options: LlamaServerStartOptions, env: NodeJS.ProcessEnv = process.env): Promise<LlamaServer> {
    const url = env.LLAMA_SERVER_URL;
    if (url) return LlamaServer.attach(url, { requireVision: options.mmproj !== undefined, requestTimeoutMs: options.requestTimeoutMs });
    return LlamaServer.start(options);
  }

  private handleExit(exit: LlamaServerExit): void {
    if (this.exitInfo) return;
    this.exitInfo = { ...exit, expected: exit.expected || this.stopping };
    liveServers.delete(this);
    if (liveServers.size === 0 && pendingChildren.size === 0) uninstallHandlers();
    for (const listener of this.exitListeners) {
      try {
        listener(this.exitInfo);
      } catch {
        // a listener's error must not break the others
      }
    }
    this.exitListeners.clear();
  }

  /** Synchronous SIGKILL, used when the parent exits. */
  killNow(): void {
    if (!this.child || this.exitInfo) return;
    this.stopping = true;
    try {
      this.child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the child has exited. */
  async stop(graceMs = DEFAULT_STOP_GRACE_MS): Promise<LlamaServerExit | undefined> {
    if (!this.child) return undefined;
    if (this.exitInfo) return this.exitInfo;
    this.stopping = true;
    this.child.ref(); // keep the event loop alive until the exit has been seen
    this.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const killed = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        if (!this.exitInfo) this.child?.kill('SIGKILL');
        resolve();
      }, graceMs);
    });
    await Promise.race([this.exited, killed]);
    const exit = await this.exited;
    if (timer) clearTimeout(timer);
    return exit;
  }
}

class PortInUseError extends Error {
  constructor(readonly perceiveError: PerceiveError) {
    super(perceiveError.message);
  }
}
