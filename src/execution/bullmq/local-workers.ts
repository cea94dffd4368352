import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';

const HERE = path.dirname(fileURLToPath(import.meta.url));
/**
 * The `perceive` entry a worker runs: the compiled `dist/cli/main.js` when this module is compiled
 * (an installed package), else `bin/perceive.js` (tsx's loader on the sources, for development).
 */
const WORKER_ENTRY = import.meta.url.endsWith('.js') ? path.resolve(HERE, '..', '..', 'cli', 'main.js') : path.resolve(HERE, '..', '..', '..', 'bin', 'perceive.js');

/** How long a worker may take to put its bundle back after SIGTERM before it is killed. */
const STOP_GRACE_MS = 120_000;

export interface WorkerExit {
  model: string;
  code: number | null;
  /** The last lines it wrote to stderr. */
  tail: string;
}

/**
 * The run's local workers: `perceive worker` child processes, one or more per model. Each is in
 * its own process group (a Ctrl-C in the terminal reaches the run only, which then stops the
 * workers once: a second signal would make a worker exit without putting its bundle back) and
 * holds an IPC channel, so it stops when the run process goes away, however that happens.
 */
export class LocalWorkers {
  private readonly children: Array<{ model: string; child: ChildProcess }> = [];
  readonly exits: WorkerExit[] = [];

  constructor(
    /** Workers per model. */
    readonly perModel: number,
    private readonly args: { configFile: string; logFile: string; log: Logger },
  ) {}

  /** Starts `perModel` workers for `model`. */
  start(model: string): void {
    for (let k = 0; k < this.perModel; k++) this.children.push({ model, child: this.spawnOne(model) });
  }

  /** Models with at least one worker started. */
  models(): string[] {
    return [...new Set(this.children.map((c) => c.model))];
  }

  get size(): number {
    return this.children.length;
  }

  /** How many of `model`'s workers have exited, and the last one's exit. */
  exited(model: string): { count: number; last: WorkerExit | undefined } {
    const mine = this.exits.filter((e) => e.model === model);
    return { count: mine.length, last: mine.at(-1) };
  }

  /** Stops the workers of one model (all when none is given): SIGTERM, then SIGKILL after the grace time. */
  async stop(model?: string): Promise<void> {
    const alive = this.children.filter((c) => (model === undefined || c.model === model) && c.child.exitCode === null && c.child.signalCode === null);
    await Promise.all(
      alive.map(
        ({ child }) =>
          new Promise<void>((resolve) => {
            const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
            child.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            child.kill('SIGTERM');
          }),
      ),
    );
  }

  private spawnOne(model: string): ChildProcess {
    const { log } = this.args;
    const argv = [WORKER_ENTRY, 'worker', '--config', this.args.configFile, '--model', model, '--log', this.args.logFile, '--quiet'];
    const child = spawn(process.execPath, argv, { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], env: process.env, detached: true });
    let tail = '';
    child.stderr?.on('data', (d: Buffer) => {
      tail = (tail + d.toString()).slice(-4000);
    });
    child.on('exit', (code, signal) => {
      log.info({ worker: child.pid, model, code, signal }, 'local worker exited');
      this.exits.push({ model, code, tail });
    });
    log.info({ worker: child.pid, model }, 'local worker started');
    return child;
  }
}
