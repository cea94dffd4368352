import type { Logger } from 'pino';

/** The heap in use (MB), as the run's log lines give it. */
export function heapMb(): number {
  return Math.round(process.memoryUsage().heapUsed / 2 ** 20);
}

/**
 * Times the run's stages for its log lines (bench/scale.ts reads them): wall-clock `ms` and this
 * process's own CPU time `cpuMs` (user + system, from `process.cpuUsage()`: a stage's own work,
 * whatever else the machine runs) since the stage began.
 */
export class StageClock {
  private start = performance.now();
  private cpu = process.cpuUsage();

  /** Begins the next stage now. */
  restart(): void {
    this.start = performance.now();
    this.cpu = process.cpuUsage();
  }

  /** The stage's `ms` and `cpuMs` so far. */
  elapsed(): { ms: number; cpuMs: number } {
    const used = process.cpuUsage(this.cpu);
    return { ms: Math.round(performance.now() - this.start), cpuMs: Math.round((used.user + used.system) / 1000) };
  }

  /** Logs `message` with `fields` then the stage's ms, cpuMs and heapMb, and begins the next stage. */
  done(log: Logger, message: string, fields: Record<string, unknown>): void {
    log.info({ ...fields, ...this.elapsed(), heapMb: heapMb() }, message);
    this.restart();
  }
}
