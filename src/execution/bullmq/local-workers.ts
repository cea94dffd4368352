import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';

const HERE = path.dirname(fileURLToPath(import.meta.url));
/**
 * The `perceive` entry a worker runs: the compiled `dist/cli/main.js` when this module is compiled
 * (an installed package), else `bin/perceive.js` (tsx's loader on the sources, for development).
 */
const WORKER_ENTRY = import.meta.url.endsWith('.js')
  ? path.resolve(HERE, '..', '..', 'cli', 'main.js')
  : path.resolve(HERE, '..', '..', '..', 'bin', 'perceive.js');

/** How long a worker may take to put its bundle back after SIGTERM before it is killed. */
const STOP_GRACE_MS = 120_000;

/** A local worker that exited while the run still needed it. */
export interface WorkerDeath {
  model: string;
  pid: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Its BullMQ worker ids, one per server (jobs locked with one are its active ones), once it was ready; empty before. */
  workerIds: string[];
  /** Its last log lines (from the run's log.jsonl) and stderr. */
  tail: string[];
  /** How many of this model's workers have died so far, this one included. */
  deaths: number;
  /** Whether a replacement was started (false: restarts used up). */
  restarted: boolean;
}

interface Slot {
  model: string;
  child: ChildProcess;
  workerIds: string[];
}

/** "signal SIGKILL" or "exit code 1". */
export function describeExit(d: Pick<WorkerDeath, 'code' | 'signal'>): string {
  return d.signal ? `signal ${d.signal}` : `exit code ${d.code}`;
}

/**
 * The run's local workers: `perceive worker` child processes, one or more per model. Each is in
 * its own process group (a Ctrl-C in the terminal reaches the run only, which then stops the
 * workers once: a second signal would make a worker exit without putting its bundle back) and
 * holds an IPC channel, so it stops when the run process goes away, however that happens. A
 * worker that dies while the run needs it (the out-of-memory killer's SIGKILL, a crash) is
 * restarted, up to `restarts` times per model; `onDeath` hears of every death.
 */
export class LocalWorkers {
  private readonly slots: Slot[] = [];
  private readonly deaths = new Map<string, number>();
  private readonly stopping = new Set<string>();
  private stoppingAll = false;
  private readonly given = new Map<string, WorkerDeath>();

  constructor(
    /** Workers per model. */
    readonly perModel: number,
    private readonly args: {
      configFile: string;
      logFile: string;
      log: Logger;
      restarts: number;
      onDeath?: (death: WorkerDeath) => void;
      /** The `perceive` entry the workers run (default `WORKER_ENTRY`), e.g. the compiled CLI from a development checkout. */
      entry?: string;
    },
  ) {}

  /** Starts `perModel` workers for `model`. */
  start(model: string): void {
    for (let k = 0; k < this.perModel; k++) this.spawnInto(model);
  }

  /** Models with at least one worker started. */
  models(): string[] {
    return [...new Set(this.slots.map((c) => c.model))];
  }

  get size(): number {
    return this.slots.length;
  }

  /** The death after which `model` has no worker left and no restart: the run cannot go on. */
  gaveUp(model: string): WorkerDeath | undefined {
    const alive = this.slots.some((s) => s.model === model && running(s.child));
    return alive ? undefined : this.given.get(model);
  }

  /** Stops the workers of one model (all when none is given): SIGTERM, then SIGKILL after the grace time. */
  async stop(model?: string, graceMs = STOP_GRACE_MS): Promise<void> {
    if (model === undefined) this.stoppingAll = true;
    else this.stopping.add(model);
    const alive = this.slots.filter((c) => (model === undefined || c.model === model) && running(c.child));
    await Promise.all(
      alive.map(
        ({ child }) =>
          new Promise<void>((resolve) => {
            const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
            child.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            child.kill('SIGTERM');
          }),
      ),
    );
  }

  private spawnInto(model: string): void {
    const { log } = this.args;
    const argv = [this.args.entry ?? WORKER_ENTRY, 'worker', '--config', this.args.configFile, '--model', model, '--log', this.args.logFile, '--quiet'];
    const child = spawn(process.execPath, argv, {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      env: process.env,
      detached: true,
    });
    const slot: Slot = { model, child, workerIds: [] };
    this.slots.push(slot);
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    child.on('message', (m: unknown) => {
      const msg = m as { type?: string; workerIds?: unknown };
      if (msg?.type === 'worker-ready' && Array.isArray(msg.workerIds)) slot.workerIds = msg.workerIds.filter((id): id is string => typeof id === 'string');
    });
    child.on('exit', (code, signal) => {
      const pid = child.pid ?? 0;
      if (this.stoppingAll || this.stopping.has(model)) {
        log.info({ worker: pid, model, code, signal }, 'local worker exited');
        return;
      }
      const deaths = (this.deaths.get(model) ?? 0) + 1;
      this.deaths.set(model, deaths);
      const restarted = deaths <= this.args.restarts;
      const tail = [
        ...workerLogTail(this.args.logFile, pid),
        ...stderr
          .split('\n')
          .filter((l) => l.trim() !== '')
          .slice(-10),
      ];
      const death: WorkerDeath = {
        model,
        pid,
        code,
        signal,
        workerIds: slot.workerIds,
        tail,
        deaths,
        restarted,
      };
      log.warn(
        {
          worker: pid,
          model,
          code,
          signal,
          deaths,
          restarted,
          restartsAllowed: this.args.restarts,
          tail,
        },
        'local worker died',
      );
      if (restarted) this.spawnInto(model);
      else this.given.set(model, death);
      this.args.onDeath?.(death);
    });
    log.info({ worker: child.pid, model }, 'local worker started');
  }
}

function running(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** The last lines a worker (by pid) wrote to the shared log.jsonl, as "level msg {fields}". */
function workerLogTail(file: string, pid: number, lines = 8): string[] {
  let text: string;
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      const length = Math.min(size, 256 * 1024);
      const buf = Buffer.alloc(length);
      fs.readSync(fd, buf, 0, length, size - length);
      text = buf.toString('utf8');
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return [];
  }
  const me = `${os.hostname()}:${pid}`;
  const out: string[] = [];
  for (const line of text.split('\n')) {
    if (!line.includes(me)) continue;
    try {
      const { level, time, msg, worker, role, model, pid: _p, hostname: _h, run: _r, ...rest } = JSON.parse(line) as Record<string, unknown>;
      if (worker !== me) continue;
      const levelName = ({ 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' } as Record<string, string>)[String(level)] ?? String(level);
      out.push(`${String(time ?? '')} ${levelName} ${msg}${Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : ''}`.trim());
    } catch {
      /* a partial line */
    }
  }
  return out.slice(-lines);
}
