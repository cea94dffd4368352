import fs from 'node:fs';
import path from 'node:path';
import pino, { type Logger } from 'pino';
import { redactCredentials } from './redact-url.js';

/** Short readable console lines from pino's JSON (worker consoles). */
const readable = {
  write(line: string): void {
    try {
      const o = JSON.parse(line) as Record<string, unknown>;
      const extra = ['queue', 'concurrency', 'dataDir', 'bundle', 'task', 'results', 'failures', 'reason', 'error']
        .filter((k) => o[k] !== undefined)
        .map((k) => `${k}=${typeof o[k] === 'string' ? String(o[k]).slice(0, 200) : JSON.stringify(o[k])}`);
      process.stderr.write(`${String(o.time ?? '').slice(11, 19)} ${String(o.msg)} ${extra.join(' ')}\n`);
    } catch {
      process.stderr.write(line);
    }
  },
};

/**
 * The run's log: pino JSON lines appended to results/<run-id>/log.jsonl by the run process and
 * by the local workers (synchronous appends, so a killed process loses no line). With `console`,
 * the same events also go to stderr as short readable lines. Credentials in URLs are redacted.
 */
export function runLogger(file: string, base: Record<string, unknown>, options: { console?: boolean } = {}): Logger {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const dest = pino.destination({ dest: file, append: true, sync: true });
  // Every line passes through redactCredentials: a URL's password never reaches log.jsonl.
  const opts = { base: { pid: process.pid, ...base }, timestamp: pino.stdTimeFunctions.isoTime, hooks: { streamWrite: redactCredentials } };
  if (!options.console) return pino(opts, dest);
  return pino(opts, pino.multistream([{ stream: dest }, { stream: readable }]));
}
