import fs from 'node:fs';
import path from 'node:path';
import { ResultStore } from '../../src/store/result-store.js';
import { RunDirectory } from '../../src/store/run-directory.js';
import { computedPerTask, writeQueueConfig } from '../support/queue-harness.js';

/** Test-only slow-down (PERCEIVE_TEST_TASK_DELAY_MS): each task waits this long, so faults land mid-run. */
export const SLOW = { PERCEIVE_TEST_TASK_DELAY_MS: '300' };

/** A queue config over the demo fixtures (queue-harness), with extra `queue:` settings appended. */
export function faultConfig(
  dir: string,
  name: string,
  o: { prefix: string; queue?: Record<string, number>; lockMs?: number },
): { config: string; output: string } {
  const output = path.join(dir, `out-${name}`);
  const config = writeQueueConfig(path.join(dir, `${name}.yaml`), { fixtures: path.join(dir, 'fixtures'), output, prefix: o.prefix });
  let text = fs.readFileSync(config, 'utf8');
  // A long lock: a dead worker's bundle only comes back soon if the run puts it back itself.
  if (o.lockMs) text = text.replace('  lock_ms: 3000', `  lock_ms: ${o.lockMs}`).replace('  stalled_check_ms: 1000', `  stalled_check_ms: ${o.lockMs}`);
  for (const [k, v] of Object.entries(o.queue ?? {})) text += `  ${k}: ${v}\n`;
  fs.writeFileSync(config, text);
  return { config, output };
}

/** What the store and the run's log say: results, tasks handed in more than once, tasks computed more than once. */
export function runCounts(
  output: string,
  runId: string,
): { samples: number; ok: number; results: number; duplicates: number; recomputed: number; calls: number } {
  const store = ResultStore.open(output);
  let results: number;
  let perTask: Map<string, number>;
  try {
    results = store.counts().results;
    perTask = store.computationsPerTask();
  } finally {
    store.close();
  }
  const runDir = path.join(output, runId);
  const samples = fs.existsSync(path.join(runDir, 'samples.jsonl')) ? RunDirectory.open(runDir).readSamples() : [];
  const calls = computedPerTask(path.join(runDir, 'log.jsonl'));
  return {
    samples: samples.length,
    ok: samples.filter((s) => s.status === 'ok').length,
    results,
    duplicates: [...perTask.values()].filter((n) => n > 1).length,
    recomputed: [...calls.values()].filter((n) => n > 1).length,
    calls: [...calls.values()].reduce((a, b) => a + b, 0),
  };
}
