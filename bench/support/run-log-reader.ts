import fs from 'node:fs';

export interface LogLine {
  time: number;
  pid: number;
  msg: string;
  [key: string]: unknown;
}

/** The lines of a run's log.jsonl (pino JSON, ISO times) with this message. */
export function readLog(file: string, msg?: string): LogLine[] {
  if (!fs.existsSync(file)) return [];
  const out: LogLine[] = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    try {
      const o = JSON.parse(line) as Record<string, unknown>;
      if (msg !== undefined && o.msg !== msg) continue;
      out.push({ ...o, time: Date.parse(String(o.time)), pid: Number(o.pid), msg: String(o.msg) });
    } catch {
      // a torn line: skip
    }
  }
  return out;
}

/**
 * Throughput of the "task computed" lines while every worker was busy: from the moment the last
 * worker finished its first task to the moment the first worker finished its last one (start-up
 * of the worker processes and the tail, where some workers have nothing left, are excluded).
 */
export function steadyThroughput(lines: LogLine[]): { tasksPerSecond: number; windowMs: number; tasks: number; workers: number } {
  // Each worker's first and last task (a running min and max: linear, and no argument spread to overflow the stack).
  const byPid = new Map<number, { first: number; last: number }>();
  for (const l of lines) {
    const seen = byPid.get(l.pid);
    if (seen) {
      seen.first = Math.min(seen.first, l.time);
      seen.last = Math.max(seen.last, l.time);
    } else byPid.set(l.pid, { first: l.time, last: l.time });
  }
  const spans = [...byPid.values()];
  const from = Math.max(...spans.map((s) => s.first));
  const to = Math.min(...spans.map((s) => s.last));
  const inside = lines.filter((l) => l.time > from && l.time <= to).length;
  const windowMs = to - from;
  return { tasksPerSecond: windowMs > 0 ? (inside * 1000) / windowMs : 0, windowMs, tasks: inside, workers: byPid.size };
}
