import fs from 'node:fs';

/** The most bytes a llama-server log file holds before it is rotated to `<file>.1` (one old file kept). */
export const SERVER_LOG_MAX_BYTES = 4 << 20;

/**
 * llama-server's own log on disk, bounded: its per-request lines (`slot …| task N |…`, info and
 * warning level: about ten lines per task) are not written, only start-up, errors and everything
 * without a task; and the file is rotated at `maxBytes` (the previous one kept as `<file>.1`), so
 * a million tasks never make gigabytes. The crash tail (the last lines, per-request ones included)
 * is kept in memory by the server object, not here. Write errors are ignored: a broken log file
 * must not stop a run.
 */
export class ServerLogFile {
  private partial = '';
  private bytes: number;
  /** Lines left out (per-request chatter), for the measurement in the tests. */
  skippedLines = 0;

  constructor(
    readonly file: string,
    private readonly maxBytes = SERVER_LOG_MAX_BYTES,
  ) {
    this.bytes = sizeOf(file);
  }

  write(chunk: string): void {
    const text = this.partial + chunk;
    const lines = text.split('\n');
    this.partial = lines.pop() ?? '';
    if (this.partial.length > 64_000) {
      lines.push(this.partial);
      this.partial = '';
    }
    let out = '';
    for (const line of lines) {
      if (isPerRequestLine(line)) this.skippedLines++;
      else out += `${line}\n`;
    }
    this.append(out);
  }

  /** Writes what is left of a last unterminated line. */
  end(): void {
    if (this.partial) this.append(`${this.partial}\n`);
    this.partial = '';
  }

  private append(out: string): void {
    if (!out) return;
    try {
      if (this.bytes + out.length > this.maxBytes && this.bytes > 0) {
        fs.renameSync(this.file, `${this.file}.1`);
        this.bytes = 0;
      }
      fs.appendFileSync(this.file, out);
      this.bytes += Buffer.byteLength(out);
    } catch {
      // a broken log file must not kill the run
    }
  }
}

/** A slot's per-request info or warning line (`… I slot print_timing: id  0 | task 110 | …`); errors are always kept. */
export function isPerRequestLine(line: string): boolean {
  return /(^|\s)[IWD] /.test(line.slice(0, 24)) && /\| task -?\d+ \|/.test(line);
}

function sizeOf(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}
