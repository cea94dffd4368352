import fs from 'node:fs';
import path from 'node:path';
import { type CheckVerdict, verdict } from './check-verdict.js';

/**
 * Bytes a run writes per sample, measured on the demo (results/cache.sqlite rows with their
 * extra and raw answers, samples.jsonl, the report's tables and CSVs), rounded up: about 6 KB;
 * a letter arm under circular option order records each rotation, so 8 KB is used.
 */
export const BYTES_PER_SAMPLE = 8 * 1024;

/** Fixed costs of a run folder and the report's assets beside the samples. */
export const BYTES_PER_RUN = 16 * 1024 * 1024;

/** What a run of `samples` item × arm samples writes under its output folder, estimated. */
export function estimateRunBytes(samples: number): number {
  return BYTES_PER_RUN + samples * BYTES_PER_SAMPLE;
}

/** Free bytes (for an unprivileged user) on the file system that holds `dir`, or its nearest existing parent. */
export function freeBytes(dir: string): { bytes: number; checked: string } {
  let at = path.resolve(dir);
  while (!fs.existsSync(at) && path.dirname(at) !== at) at = path.dirname(at);
  const s = fs.statfsSync(at);
  return { bytes: s.bavail * s.bsize, checked: at };
}

export function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
}

/** Error when the estimate does not fit, warning when it takes more than half of what is free. */
export function diskSpaceVerdict(args: { dir: string; free: number; needed: number }): CheckVerdict {
  const { dir, free, needed } = args;
  const what = `${formatBytes(free)} free at ${dir}, the run needs about ${formatBytes(needed)}`;
  if (free < needed) return verdict('error', 'disk', what, 'free space there, or set `output:` in the config to a larger disk');
  if (free < 2 * needed)
    return verdict('warning', 'disk', `${what} (more than half of it)`, 'free space there or move `output:`: reruns and reports add to it');
  return verdict('ok', 'disk', what);
}
