import fs from 'node:fs';
import path from 'node:path';
import { PerceiveError } from '../core/errors.js';
import { type Sample, SampleSchema } from './sample.js';

/**
 * results/<run-id>/: manifest.json, samples.jsonl (exported from the results store, which is
 * what survives a crash: see result-store.ts), log.jsonl, summary.json, report.md.
 */
export class RunDirectory {
  readonly dir: string;

  constructor(outputRoot: string, readonly runId: string) {
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
    const file = this.file('samples.jsonl');
    if (!fs.existsSync(file)) return [];
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    const samples: Sample[] = [];
    lines.forEach((line, i) => {
      if (line.trim() === '') return;
      let raw: unknown;
      try {
        raw = JSON.parse(line);
      } catch {
        if (i >= lines.length - 2) return; // torn final line
        throw new PerceiveError('bad-samples', `${file}: line ${i + 1} is not JSON`);
      }
      const parsed = SampleSchema.safeParse(raw);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new PerceiveError('bad-samples', `${file}: line ${i + 1}: field ${issue?.path.join('.')}: ${issue?.message}`);
      }
      samples.push(parsed.data);
    });
    return samples;
  }
}
