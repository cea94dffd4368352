import fs from 'node:fs';
import { PerceiveError } from '../core/errors.js';
import { describeZodIssues } from '../core/zod-issues.js';
import { type Sample, SampleSchema } from './sample.js';

/** Where one benchmark's lines of samples.jsonl are: byte offset, byte length and line number of each, in file order. */
export interface BenchmarkLines {
  benchmark: string;
  offsets: number[];
  lengths: number[];
  lines: number[];
}

/**
 * A first pass over samples.jsonl that keeps only where each benchmark's lines are (a few numbers
 * per sample, no sample), so a reader can then take one benchmark's samples at a time. Also the
 * first line of each benchmark and of each arm, and the first line where `settled` holds (for the
 * report: a line no later step can drop), to order them as a pass over every sample would.
 */
export interface SampleIndex {
  file: string;
  /** In the order of their first line. */
  benchmarks: BenchmarkLines[];
  firstLine: { benchmark: Map<string, number>; arm: Map<string, number> };
  firstSettledLine: { benchmark: Map<string, number>; arm: Map<string, number> };
}

const CHUNK = 1 << 20;

/** JSON of a line, or undefined when it is not JSON. */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function stringField(raw: unknown, key: string): string | undefined {
  const v = raw !== null && typeof raw === 'object' ? (raw as Record<string, unknown>)[key] : undefined;
  return typeof v === 'string' ? v : undefined;
}

/**
 * Reads samples.jsonl a chunk at a time and calls `line` with each line's bytes, byte offset and
 * 1-based number (the last line too when it lacks its newline).
 */
function eachLine(file: string, line: (bytes: Buffer, offset: number, lineNo: number) => void): void {
  const fd = fs.openSync(file, 'r');
  let buffer = Buffer.alloc(CHUNK);
  let filled = 0;
  let base = 0;
  let lineNo = 0;
  try {
    for (;;) {
      if (filled === buffer.length) {
        // A line longer than the buffer: grow it.
        const bigger = Buffer.alloc(buffer.length * 2);
        buffer.copy(bigger, 0, 0, filled);
        buffer = bigger;
      }
      const n = fs.readSync(fd, buffer, filled, buffer.length - filled, null);
      const end = filled + n;
      let start = 0;
      for (let nl = buffer.indexOf(10, 0); nl !== -1 && nl < end; nl = buffer.indexOf(10, start)) {
        line(buffer.subarray(start, nl), base + start, ++lineNo);
        start = nl + 1;
      }
      if (n === 0) {
        if (start < end) line(buffer.subarray(start, end), base + start, ++lineNo);
        return;
      }
      buffer.copy(buffer, 0, start, end);
      base += start;
      filled = end - start;
    }
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Indexes samples.jsonl by benchmark. As `RunDirectory.eachSample` reads it, a torn last line is
 * ignored and any other line that is not JSON is fatal, naming its line number; the samples
 * themselves are validated when read (`readBenchmarkSamples`).
 */
export function indexSamples(file: string, settled: (raw: unknown) => boolean): SampleIndex {
  const index: SampleIndex = {
    file,
    benchmarks: [],
    firstLine: { benchmark: new Map(), arm: new Map() },
    firstSettledLine: { benchmark: new Map(), arm: new Map() },
  };
  if (!fs.existsSync(file)) return index;
  const byName = new Map<string, BenchmarkLines>();
  let torn: number | undefined;
  eachLine(file, (bytes, offset, lineNo) => {
    const text = bytes.toString('utf8');
    if (text.trim() === '') return;
    if (torn !== undefined) throw new PerceiveError('bad-samples', `${file}: line ${torn} is not JSON`);
    const raw = parseJson(text);
    if (raw === undefined) {
      torn = lineNo;
      return;
    }
    const benchmark = stringField(raw, 'benchmark');
    const arm = stringField(raw, 'arm');
    if (benchmark === undefined || arm === undefined) {
      throw new PerceiveError('bad-samples', `${file}: line ${lineNo}: ${benchmark === undefined ? 'benchmark' : 'arm'}: expected a string`);
    }
    let entry = byName.get(benchmark);
    if (!entry) {
      byName.set(benchmark, (entry = { benchmark, offsets: [], lengths: [], lines: [] }));
      index.benchmarks.push(entry);
    }
    entry.offsets.push(offset);
    entry.lengths.push(bytes.length);
    entry.lines.push(lineNo);
    if (!index.firstLine.benchmark.has(benchmark)) index.firstLine.benchmark.set(benchmark, lineNo);
    if (!index.firstLine.arm.has(arm)) index.firstLine.arm.set(arm, lineNo);
    if (settled(raw)) {
      if (!index.firstSettledLine.benchmark.has(benchmark)) index.firstSettledLine.benchmark.set(benchmark, lineNo);
      if (!index.firstSettledLine.arm.has(arm)) index.firstSettledLine.arm.set(arm, lineNo);
    }
  });
  return index;
}

/**
 * Calls `visit` with each sample of one benchmark's lines, validated, in file order, with its line
 * number; neighbouring lines are read together (up to a few MB at a time), so the read is a few
 * large reads when the benchmark's lines sit together and one small read per line at worst.
 */
export function readBenchmarkSamples(file: string, entry: BenchmarkLines, visit: (sample: Sample, line: number) => void): void {
  const fd = fs.openSync(file, 'r');
  let buffer = Buffer.alloc(CHUNK);
  try {
    let i = 0;
    const n = entry.offsets.length;
    while (i < n) {
      // The run of lines [i, j) that follow one another in the file, up to CHUNK bytes (one line at least).
      const start = entry.offsets[i]!;
      let j = i + 1;
      let end = start + entry.lengths[i]!;
      while (j < n && entry.offsets[j]! === end + 1 && entry.offsets[j]! + entry.lengths[j]! - start <= CHUNK) {
        end = entry.offsets[j]! + entry.lengths[j]!;
        j++;
      }
      if (end - start > buffer.length) buffer = Buffer.alloc(end - start);
      let got = 0;
      while (got < end - start) {
        const r = fs.readSync(fd, buffer, got, end - start - got, start + got);
        if (r === 0) throw new PerceiveError('bad-samples', `${file}: changed while the report read it (line ${entry.lines[i]})`);
        got += r;
      }
      for (let k = i; k < j; k++) {
        const from = entry.offsets[k]! - start;
        const text = buffer.toString('utf8', from, from + entry.lengths[k]!);
        const lineNo = entry.lines[k]!;
        const parsed = SampleSchema.safeParse(parseJson(text));
        if (!parsed.success) throw new PerceiveError('bad-samples', `${file}: line ${lineNo}: ${describeZodIssues(parsed.error, { limit: 1 })}`);
        visit(parsed.data, lineNo);
      }
      i = j;
    }
  } finally {
    fs.closeSync(fd);
  }
}
