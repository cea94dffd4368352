import fs from 'node:fs';
import path from 'node:path';

/**
 * A file written a part at a time through a temporary file, renamed into place by `commit` (a reader
 * never sees half a file; `abort` leaves the old file as it was). Parts are buffered up to 1 MB.
 */
export class AtomicFileWriter {
  private readonly tmp: string;
  private fd: number | undefined;
  private buffered = '';

  constructor(private readonly target: string) {
    fs.mkdirSync(path.dirname(target), { recursive: true });
    this.tmp = `${target}.${process.pid}.tmp`;
    this.fd = fs.openSync(this.tmp, 'w');
  }

  write(text: string): void {
    if (this.fd === undefined) throw new Error(`${this.target}: written after commit or abort`);
    this.buffered += text;
    if (this.buffered.length >= 1 << 20) this.flush();
  }

  private flush(): void {
    if (this.buffered && this.fd !== undefined) fs.writeSync(this.fd, this.buffered);
    this.buffered = '';
  }

  commit(): void {
    this.flush();
    this.close();
    fs.renameSync(this.tmp, this.target);
  }

  abort(): void {
    this.buffered = '';
    this.close();
    fs.rmSync(this.tmp, { force: true });
  }

  private close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }
}
