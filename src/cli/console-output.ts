import { isPerceiveError } from '../core/errors.js';
import { redactCredentials } from '../core/redact-url.js';

/** Progress on a TTY is one rewritten line; elsewhere (CI, logs, --quiet) plain lines, throttled. */
export class ProgressLine {
  private lastPlain = 0;
  private readonly tty: boolean;

  constructor(private readonly quiet = false) {
    this.tty = Boolean(process.stderr.isTTY) && !quiet;
  }

  update(text: string, force = false): void {
    if (this.tty) {
      process.stderr.write(`\r\x1b[2K${text}`);
      return;
    }
    const now = Date.now();
    if (force || now - this.lastPlain > 5000) {
      this.lastPlain = now;
      if (!this.quiet || force) process.stderr.write(`${text}\n`);
    }
  }

  done(text?: string): void {
    if (this.tty) process.stderr.write('\r\x1b[2K');
    if (text) process.stderr.write(`${text}\n`);
  }
}

export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** Prints a user-facing error without a stack trace; a bug (non-PerceiveError) keeps its stack. */
export function reportError(error: unknown): number {
  if (isPerceiveError(error)) {
    process.stderr.write(`perceive: error: ${redactCredentials(error.message)}\n`);
    if (error.hint) process.stderr.write(`  hint: ${redactCredentials(error.hint)}\n`);
    return 1;
  }
  process.stderr.write(
    `perceive: unexpected error (a bug; please report it):\n${redactCredentials(error instanceof Error ? (error.stack ?? error.message) : String(error))}\n`,
  );
  return 2;
}
