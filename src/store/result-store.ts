import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { z } from 'zod';
import { PerceiveError } from '../core/errors.js';
import { describeZodIssues } from '../core/zod-issues.js';

/** The file under a run's output root that holds every computed task, across runs. */
export const STORE_FILE = 'cache.sqlite';

const TimingsSchema = z
  .object({ calls: z.number(), promptTokens: z.number(), cachedTokens: z.number(), promptMs: z.number(), predictedMs: z.number() })
  .nullable();

/** One computed task: what the arm returned, checked before it may be stored. */
export const TaskResultSchema = z.object({
  task: z.string().regex(/^[0-9a-f]{64}$/),
  scores: z.array(z.array(z.number().refine(Number.isFinite, 'not finite')).min(1)).min(1),
  extra: z.record(z.string(), z.unknown()),
  timings: TimingsSchema,
  latencyMs: z.number().nonnegative(),
  /** The arm's whole answer as it came back (JSON), kept for inspection. */
  raw: z.string(),
  /** Which worker computed it (host:pid). */
  worker: z.string(),
  finishedAt: z.string(),
});
export type TaskResult = z.infer<typeof TaskResultSchema>;

/** A task that ended without a result: bad input, or transient errors past the retry budget. */
export const TaskFailureSchema = z.object({
  task: z.string(),
  code: z.string(),
  message: z.string(),
  worker: z.string(),
  failedAt: z.string(),
});
export type TaskFailure = z.infer<typeof TaskFailureSchema>;

interface ResultRow {
  task: string;
  scores: string;
  extra: string;
  timings: string | null;
  latency_ms: number;
  raw: string;
  worker: string;
  finished_at: string;
}

/**
 * The results store: one SQLite file (WAL) under the output root that outlives runs, keyed by
 * task hash. A task is computed once, ever: a later run (a resume, or a prompt ablation sharing
 * tasks) finds it here. Failures are kept apart (latest per task) and never count as results,
 * so a later run tries the task again. `computations` logs every result handed in (a task handed
 * in twice shows as two rows), which is how tests prove nothing was recomputed.
 */
export class ResultStore {
  private readonly db: Database.Database;
  private readonly insertResult: Database.Statement;
  private readonly insertComputation: Database.Statement;
  private readonly upsertFailure: Database.Statement;
  private readonly selectResult: Database.Statement;
  private readonly selectFailure: Database.Statement;
  private readonly selectHas: Database.Statement;

  private constructor(readonly file: string) {
    this.db = new Database(file, { timeout: 10_000 });
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    // results is a rowid table (rows appended in the order they come, the task hash in a unique
    // index beside them): keyed by the random hash itself (WITHOUT ROWID, before 2026-12-01), every
    // insert rewrote a random leaf of a tree of whole rows, and the drain's cost per row grew with
    // the store (about 42 -> 70 us per row from 32,000 to 128,000 rows with the index below, against
    // 22 -> 28 now). A store made before keeps its table; both read and write alike.
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS results (
        task TEXT PRIMARY KEY NOT NULL,
        scores TEXT NOT NULL,
        extra TEXT NOT NULL,
        timings TEXT,
        latency_ms REAL NOT NULL,
        raw TEXT NOT NULL,
        worker TEXT NOT NULL,
        finished_at TEXT NOT NULL
      );
      CREATE TABLE IF NOT EXISTS failures (
        task TEXT PRIMARY KEY,
        code TEXT NOT NULL,
        message TEXT NOT NULL,
        worker TEXT NOT NULL,
        failed_at TEXT NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS computations (
        task TEXT NOT NULL,
        worker TEXT NOT NULL,
        stored INTEGER NOT NULL,
        at TEXT NOT NULL
      );
      CREATE TABLE IF NOT EXISTS claims (
        task TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        expires INTEGER NOT NULL
      ) WITHOUT ROWID;
    `);
    dropUnusedIndex(this.db);
    this.insertResult = this.db.prepare(
      'INSERT OR IGNORE INTO results (task, scores, extra, timings, latency_ms, raw, worker, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.insertComputation = this.db.prepare('INSERT INTO computations (task, worker, stored, at) VALUES (?, ?, ?, ?)');
    this.upsertFailure = this.db.prepare(
      'INSERT INTO failures (task, code, message, worker, failed_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT(task) DO UPDATE SET code = excluded.code, message = excluded.message, worker = excluded.worker, failed_at = excluded.failed_at',
    );
    this.selectResult = this.db.prepare('SELECT * FROM results WHERE task = ?');
    this.selectFailure = this.db.prepare('SELECT task, code, message, worker, failed_at AS failedAt FROM failures WHERE task = ?');
    this.selectHas = this.db.prepare('SELECT 1 FROM results WHERE task = ?').pluck();
  }

  /** Opens (creating when needed) `<outputRoot>/cache.sqlite`. */
  static open(outputRoot: string): ResultStore {
    fs.mkdirSync(outputRoot, { recursive: true });
    try {
      return new ResultStore(path.join(outputRoot, STORE_FILE));
    } catch (error) {
      throw new PerceiveError('store-unreadable', `cannot open the results store ${path.join(outputRoot, STORE_FILE)}: ${(error as Error).message}`);
    }
  }

  /**
   * Stores results and failures in one transaction. A result that fails validation (empty or
   * malformed scores) is stored as a failure instead, never as a result. A result for a task that
   * is already stored is ignored (first one wins). Returns how many results were new.
   */
  put(results: unknown[], failures: TaskFailure[] = []): { stored: number; rejected: TaskFailure[] } {
    const rejected: TaskFailure[] = [];
    let stored = 0;
    const now = new Date().toISOString();
    this.db.transaction(() => {
      for (const raw of results) {
        const parsed = TaskResultSchema.safeParse(raw);
        if (!parsed.success) {
          const task = typeof (raw as { task?: unknown })?.task === 'string' ? (raw as { task: string }).task : '';
          const f = {
            task,
            code: 'malformed-answer',
            message: `the model's answer is not a valid score matrix: ${describeZodIssues(parsed.error, { limit: 1 })}`,
            worker: String((raw as { worker?: unknown })?.worker ?? '?'),
            failedAt: now,
          };
          rejected.push(f);
          if (task) this.upsertFailure.run(f.task, f.code, f.message, f.worker, f.failedAt);
          continue;
        }
        const r = parsed.data;
        const info = this.insertResult.run(
          r.task,
          JSON.stringify(r.scores),
          JSON.stringify(r.extra),
          r.timings ? JSON.stringify(r.timings) : null,
          r.latencyMs,
          r.raw,
          r.worker,
          r.finishedAt,
        );
        this.insertComputation.run(r.task, r.worker, info.changes, now);
        stored += info.changes;
      }
      for (const f of failures) this.upsertFailure.run(f.task, f.code, f.message, f.worker, f.failedAt);
    })();
    return { stored, rejected };
  }

  get(task: string): TaskResult | undefined {
    const row = this.selectResult.get(task) as ResultRow | undefined;
    if (!row) return undefined;
    return {
      task: row.task,
      scores: JSON.parse(row.scores) as number[][],
      extra: JSON.parse(row.extra) as Record<string, unknown>,
      timings: row.timings ? (JSON.parse(row.timings) as TaskResult['timings']) : null,
      latencyMs: row.latency_ms,
      raw: row.raw,
      worker: row.worker,
      finishedAt: row.finished_at,
    };
  }

  /** The subset of `tasks` that has a stored result. */
  has(tasks: Iterable<string>): Set<string> {
    const out = new Set<string>();
    for (const t of tasks) if (this.selectHas.get(t) !== undefined) out.add(t);
    return out;
  }

  /** Where `storedSince` starts: every result stored after this call comes after this cursor. */
  storedCursor(): number {
    return this.db.prepare('SELECT COALESCE(MAX(rowid), 0) FROM computations').pluck().get() as number;
  }

  /**
   * The tasks whose result was stored (by any process) after `cursor`, and the cursor to pass next
   * time: one range read of the computations log, so watching a store costs what is new in it, not
   * the size of the run.
   */
  storedSince(cursor: number): { tasks: string[]; cursor: number } {
    const rows = this.db.prepare('SELECT rowid AS id, task, stored FROM computations WHERE rowid > ? ORDER BY rowid').all(cursor) as Array<{
      id: number;
      task: string;
      stored: number;
    }>;
    return { tasks: rows.filter((r) => r.stored > 0).map((r) => r.task), cursor: rows.length > 0 ? rows[rows.length - 1]!.id : cursor };
  }

  /** The tasks whose failure was recorded at or after `since` (ISO time). */
  failedSince(since: string): string[] {
    return this.db.prepare('SELECT task FROM failures WHERE failed_at >= ?').pluck().all(since) as string[];
  }

  failure(task: string): TaskFailure | undefined {
    return this.selectFailure.get(task) as TaskFailure | undefined;
  }

  /**
   * Claims tasks for `owner` until `ttlMs` from now, in one transaction (SQLite serialises writers,
   * so two run processes over one store never both get a task): a task is claimed when it has no
   * result and no live claim of another owner; an expired claim (its run died) is taken over.
   * Returns the tasks claimed.
   */
  claim(tasks: string[], owner: string, ttlMs: number): string[] {
    const now = Date.now();
    const got: string[] = [];
    const select = this.db.prepare('SELECT owner, expires FROM claims WHERE task = ?');
    const upsert = this.db.prepare(
      'INSERT INTO claims (task, owner, expires) VALUES (?, ?, ?) ON CONFLICT(task) DO UPDATE SET owner = excluded.owner, expires = excluded.expires',
    );
    // BEGIN IMMEDIATE: the write lock is taken before the reads, so two processes never both read "free".
    const tx = this.db.transaction(() => {
      for (const t of tasks) {
        if (this.selectHas.get(t) !== undefined) continue;
        const c = select.get(t) as { owner: string; expires: number } | undefined;
        if (c && c.owner !== owner && c.expires > now) continue;
        upsert.run(t, owner, now + ttlMs);
        got.push(t);
      }
    }) as unknown as { immediate: () => void };
    tx.immediate();
    return got;
  }

  /** Extends every claim of `owner` (called as its tasks finish, so a long bundle keeps them). */
  renewClaims(owner: string, ttlMs: number): void {
    this.db.prepare('UPDATE claims SET expires = ? WHERE owner = ?').run(Date.now() + ttlMs, owner);
  }

  /** Lets go of claims (the tasks are stored or failed, or the run stops). */
  releaseClaims(tasks: string[], owner: string): void {
    const del = this.db.prepare('DELETE FROM claims WHERE task = ? AND owner = ?');
    this.db.transaction(() => {
      for (const t of tasks) del.run(t, owner);
    })();
  }

  /** Counts for tests and the log: results, failures, and results handed in per task. */
  counts(): { results: number; failures: number; computations: number } {
    const one = (sql: string): number => this.db.prepare(sql).pluck().get() as number;
    return {
      results: one('SELECT COUNT(*) FROM results'),
      failures: one('SELECT COUNT(*) FROM failures'),
      computations: one('SELECT COUNT(*) FROM computations'),
    };
  }

  /** How many times each task's result was handed in (tests: 1 everywhere = nothing recomputed). */
  computationsPerTask(): Map<string, number> {
    const rows = this.db.prepare('SELECT task, COUNT(*) AS n FROM computations GROUP BY task').all() as Array<{ task: string; n: number }>;
    return new Map(rows.map((r) => [r.task, r.n]));
  }

  close(): void {
    this.db.close();
  }
}

/**
 * Stores made before 2026-12-01 index `computations` by task: only `computationsPerTask` (tests)
 * groups by it, and the index cost a random insert per stored result. Dropped when found; a store
 * this process may not write keeps it (it is only slower).
 */
function dropUnusedIndex(db: Database.Database): void {
  const found = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'computations_task'").pluck().get();
  if (found === undefined) return;
  try {
    db.exec('DROP INDEX IF EXISTS computations_task');
  } catch {
    // read-only or busy: the index stays, and everything works as before
  }
}
