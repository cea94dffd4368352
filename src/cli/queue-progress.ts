import type { QueueProgress } from '../run/run-experiment.js';
import { formatDuration } from './console-output.js';

/** One line per queue: a bar, done/total, rate, ETA, failures. */
export function progressLines(progress: QueueProgress[]): string[] {
  const width = Math.max(...progress.map((p) => p.model.length), 4);
  return progress.map((p) => {
    const frac = p.total > 0 ? p.done / p.total : 1;
    const filled = Math.round(frac * 20);
    const computed = p.done - p.reused;
    const rate = computed / Math.max(p.elapsedMs / 1000, 1e-3);
    const eta = p.done >= p.total ? 'done' : rate > 0 ? `ETA ${formatDuration(((p.total - p.done) / rate) * 1000)}` : 'ETA –';
    return `${p.model.padEnd(width)} [${'#'.repeat(filled)}${'.'.repeat(20 - filled)}] ${p.done}/${p.total} tasks, ${rate.toFixed(2)}/s, ${eta}${p.failed ? `, ${p.failed} failed` : ''}${p.reused ? ` (${p.reused} from the store)` : ''}`;
  });
}

/**
 * The run's progress: on a TTY one rewritten line per queue; otherwise (CI, logs, --quiet) plain
 * lines every 10 seconds and when something finishes.
 */
export class QueueProgressDisplay {
  private shown = 0;
  private lastPlain = 0;
  private lastDone = -1;
  private readonly tty: boolean;

  constructor(private readonly quiet = false) {
    this.tty = Boolean(process.stderr.isTTY) && !quiet;
  }

  update(progress: QueueProgress[]): void {
    const lines = progressLines(progress);
    if (this.tty) {
      const up = this.shown > 0 ? `\x1b[${this.shown}A` : '';
      process.stderr.write(`${up}${lines.map((l) => `\r\x1b[2K${l}\n`).join('')}`);
      this.shown = lines.length;
      return;
    }
    const done = progress.reduce((n, p) => n + p.done, 0);
    const total = progress.reduce((n, p) => n + p.total, 0);
    const now = Date.now();
    if (now - this.lastPlain > 10_000 || (done === total && done !== this.lastDone)) {
      this.lastPlain = now;
      this.lastDone = done;
      if (!this.quiet || done === total) for (const l of lines) process.stderr.write(`${l}\n`);
    }
  }
}
