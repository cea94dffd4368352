import fs from 'node:fs';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { PerceiveError } from '../core/errors.js';
import { describeZodIssues } from '../core/zod-issues.js';
import { type Sample, SampleSchema } from './sample.js';

/**
 * results/<run-id>/: manifest.json, samples.jsonl (exported from the results store, which is
 * what survives a crash: see result-store.ts), log.jsonl, summary.json, report.md.
 */
export class RunDirectory {
  readonly dir: string;

  constructor(
    outputRoot: string,
    readonly runId: string,
  ) {
    this.dir = path.join(outputRoot, runId);
  }

  static open(dir: string): RunDirectory {
    const abs = path.resolve(dir);
    if (!fs.existsSync(path.join(abs, 'manifest.json'))) {
      throw new PerceiveError('not-a-run', `${abs} is not a run directory (no manifest.json)`);
    }
    return new RunDirectory(path.dirname(abs), path.basename(abs));
  }

  create(): void {
    fs.mkdirSync(this.dir, { recursive: true });
  }

  /**
   * A new run's folder, created exclusively (mkdir of the leaf without `recursive` fails when it
   * exists): two runs started in the same second (run ids have one-second resolution) never share
   * one. When `<runId>` exists, `<runId>-2`, `<runId>-3`, … is taken instead.
   */
  static createExclusive(outputRoot: string, runId: string): RunDirectory {
    fs.mkdirSync(outputRoot, { recursive: true });
    for (let n = 1; n < 10_000; n++) {
      const id = n === 1 ? runId : `${runId}-${n}`;
      try {
        fs.mkdirSync(path.join(outputRoot, id));
        return new RunDirectory(outputRoot, id);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
    }
    throw new PerceiveError('bad-argument', `cannot find a free run folder for ${runId} under ${outputRoot}`);
  }

  file(name: string): string {
    return path.join(this.dir, name);
  }

  /** Writes via a temporary file and a rename, so a reader never sees half a file. */
  writeFileAtomic(name: string, data: string): void {
    this.writeLinesAtomic(name, [data]);
  }

  /**
   * Writes lines (each ending in a newline) via a temporary file and a rename, so a reader never
   * sees half a file, a chunk at a time: the whole file is never held in memory. Returns how many
   * lines were written.
   */
  writeLinesAtomic(name: string, lines: Iterable<string>): number {
    const target = this.file(name);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    const tmp = `${target}.${process.pid}.tmp`;
    const fd = fs.openSync(tmp, 'w');
    let count = 0;
    try {
      let chunk = '';
      for (const line of lines) {
        chunk += line;
        count++;
        if (chunk.length >= 1 << 20) {
          fs.writeSync(fd, chunk);
          chunk = '';
        }
      }
      if (chunk) fs.writeSync(fd, chunk);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, target);
    return count;
  }

  writeJson(name: string, value: unknown): void {
    this.writeFileAtomic(name, `${JSON.stringify(value, null, 2)}\n`);
  }

  readJson(name: string): unknown {
    return JSON.parse(fs.readFileSync(this.file(name), 'utf8'));
  }

  appendSample(sample: Sample): void {
    fs.appendFileSync(this.file('samples.jsonl'), `${JSON.stringify(sample)}\n`);
  }

  /**
   * Reads samples.jsonl back, validated. A torn last line (a crash mid-write) is ignored;
   * any other bad line names its line number.
   */
  readSamples(): Sample[] {
    const samples: Sample[] = [];
    this.eachSample((s) => samples.push(s));
    return samples;
  }

  /**
   * Calls `visit` with each sample of samples.jsonl, validated, reading the file a chunk at a time:
   * neither the file nor its samples are held (a million-sample file streams in constant memory).
   * A torn last line is ignored; any other bad line names its line number.
   */
  eachSample(visit: (sample: Sample) => void): void {
    const file = this.file('samples.jsonl');
    if (!fs.existsSync(file)) return;
    const fd = fs.openSync(file, 'r');
    const buffer = Buffer.alloc(1 << 20);
    const decoder = new StringDecoder('utf8');
    let rest = '';
    let lineNo = 0;
    /** A line that is not JSON: fatal unless it turns out to be the last one (torn). */
    let torn: number | undefined;
    const line = (text: string): void => {
      lineNo += 1;
      if (text.trim() === '') return;
      if (torn !== undefined) throw new PerceiveError('bad-samples', `${file}: line ${torn} is not JSON`);
      let raw: unknown;
      try {
        raw = JSON.parse(text);
      } catch {
        torn = lineNo;
        return;
      }
      const parsed = SampleSchema.safeParse(raw);
      if (!parsed.success) {
        throw new PerceiveError('bad-samples', `${file}: line ${lineNo}: ${describeZodIssues(parsed.error, { limit: 1 })}`);
      }
      visit(parsed.data);
    };
    try {
      for (;;) {
        const n = fs.readSync(fd, buffer, 0, buffer.length, null);
        if (n === 0) break;
        // The decoder keeps a multi-byte character split across two chunks for the next one.
        const lines = (rest + decoder.write(buffer.subarray(0, n))).split('\n');
        rest = lines.pop()!;
        for (const l of lines) line(l);
      }
    } finally {
      fs.closeSync(fd);
    }
    rest += decoder.end();
    if (rest !== '') line(rest);
  }
}
