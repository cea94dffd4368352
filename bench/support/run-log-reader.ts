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
  const byPid = new Map<number, number[]>();
  for (const l of lines) byPid.set(l.pid, [...(byPid.get(l.pid) ?? []), l.time]);
  const firsts = [...byPid.values()].map((t) => Math.min(...t));
  const lasts = [...byPid.values()].map((t) => Math.max(...t));
  const from = Math.max(...firsts);
  const to = Math.min(...lasts);
  const inside = lines.filter((l) => l.time > from && l.time <= to).length;
  const windowMs = to - from;
  return { tasksPerSecond: windowMs > 0 ? (inside * 1000) / windowMs : 0, windowMs, tasks: inside, workers: byPid.size };
}
