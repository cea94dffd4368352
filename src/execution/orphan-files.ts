import fs from 'node:fs';
import path from 'node:path';
import type { ResultStore } from '../store/result-store.js';
import { type BundleOutcome, BundleOutcomeSchema, resultTask } from './bundle-job.js';

/**
 * What a local worker finished of its active bundles when it is stopped while Redis is away (the
 * job cannot take it): one JSON file per bundle under `<run folder>/orphans/`, written at once,
 * and put into the store by the next session of the run (`--resume`), so those tasks are not
 * computed again.
 */
export function writeOrphanFiles(dir: string, outcomes: BundleOutcome[]): number {
  let written = 0;
  for (const o of outcomes) {
    if (o.results.length + o.failures.length === 0) continue;
    fs.mkdirSync(path.join(dir, 'orphans'), { recursive: true });
    const file = path.join(dir, 'orphans', `${o.bundle}.json`);
    fs.writeFileSync(`${file}.tmp`, JSON.stringify(o));
    fs.renameSync(`${file}.tmp`, file);
    written++;
  }
  return written;
}

/** Stores the orphan files of a run folder (unreadable ones are left, named) and removes them. Returns the tasks stored and the files skipped. */
export function importOrphanFiles(dir: string, store: ResultStore): { stored: string[]; skipped: string[] } {
  const folder = path.join(dir, 'orphans');
  const out = { stored: [] as string[], skipped: [] as string[] };
  if (!fs.existsSync(folder)) return out;
  for (const name of fs.readdirSync(folder).filter((n) => n.endsWith('.json'))) {
    const file = path.join(folder, name);
    let o: BundleOutcome | undefined;
    try {
      const raw: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
      if (BundleOutcomeSchema.safeParse(raw).success) o = raw as BundleOutcome;
    } catch {
      o = undefined;
    }
    if (!o) {
      out.skipped.push(file);
      continue;
    }
    const put = store.put(o.results, o.failures);
    const rejected = new Set(put.rejected.map((f) => f.task));
    out.stored.push(...o.results.map((r) => resultTask(r)).filter((t) => !rejected.has(t)));
    fs.rmSync(file);
  }
  return out;
}
