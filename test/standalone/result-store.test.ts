import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { ResultStore } from '../../src/store/result-store.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'perceive-store-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const hash = (c: string): string => c.repeat(64);
const result = (task: string, scores: unknown): Record<string, unknown> => ({
  task,
  scores,
  extra: { pYes: [0.4] },
  timings: null,
  latencyMs: 12,
  raw: '{}',
  worker: 'host:1',
  finishedAt: '2026-11-22T00:00:00.000Z',
});

describe('the results store (SQLite, WAL, keyed by task hash)', () => {
  it('stores a result once, keeps the first, and survives reopening', () => {
    const store = ResultStore.open(dir);
    expect(store.put([result(hash('a'), [[0.1, 0.2]])]).stored).toBe(1);
    expect(store.put([result(hash('a'), [[0.9, 0.9]])]).stored).toBe(0);
    store.close();
    const again = ResultStore.open(dir);
    expect(again.get(hash('a'))!.scores).toEqual([[0.1, 0.2]]);
    expect(again.get(hash('a'))!.extra).toEqual({ pYes: [0.4] });
    expect([...again.has([hash('a'), hash('b')])]).toEqual([hash('a')]);
    expect(again.computationsPerTask().get(hash('a'))).toBe(2);
    expect(fs.existsSync(path.join(dir, 'cache.sqlite-wal'))).toBe(true);
    again.close();
  });

  it('says what was stored after a cursor (by any connection) and which failures are recent, without scanning the run', () => {
    const own = fs.mkdtempSync(path.join(dir, 'cursor-'));
    const store = ResultStore.open(own);
    store.put([result(hash('c'), [[0.1, 0.2]])]);
    const cursor = store.storedCursor();
    const other = ResultStore.open(own);
    other.put([result(hash('d'), [[0.1, 0.2]]), result(hash('c'), [[0.3, 0.2]])]);
    other.put([], [{ task: hash('e'), code: 'server-error', message: 'x', worker: 'w', failedAt: '2026-11-30T10:00:00.000Z' }]);
    other.put([], [{ task: hash('f'), code: 'server-error', message: 'x', worker: 'w', failedAt: '2026-11-29T10:00:00.000Z' }]);
    const seen = store.storedSince(cursor);
    // c was stored before the cursor (its second copy was ignored): only d is new.
    expect(seen.tasks).toEqual([hash('d')]);
    expect(seen.cursor).toBeGreaterThan(cursor);
    expect(store.storedSince(seen.cursor)).toEqual({ tasks: [], cursor: seen.cursor });
    expect(store.failedSince('2026-11-30T00:00:00.000Z')).toEqual([hash('e')]);
    other.close();
    store.close();
  });

  it('never stores an empty or malformed answer as a result: it becomes a failure with its reason', () => {
    const store = ResultStore.open(dir);
    const put = store.put([result(hash('b'), []), result(hash('c'), [[0.1, null]]), result(hash('d'), [[Number.NaN, 1]])]);
    expect(put.stored).toBe(0);
    expect(put.rejected.map((f) => f.code)).toEqual(['malformed-answer', 'malformed-answer', 'malformed-answer']);
    for (const c of ['b', 'c', 'd']) {
      expect(store.get(hash(c))).toBeUndefined();
      expect(store.failure(hash(c))!.code).toBe('malformed-answer');
    }
    expect(store.failure(hash('b'))!.message).toContain('field scores');
    store.close();
  });

  it('keeps the latest failure of a task, and a later result wins over it', () => {
    const store = ResultStore.open(dir);
    store.put([], [{ task: hash('e'), code: 'server-timeout', message: 'first', worker: 'w', failedAt: '2026-11-22T00:00:00.000Z' }]);
    store.put([], [{ task: hash('e'), code: 'bad-image', message: 'second', worker: 'w', failedAt: '2026-11-22T00:00:01.000Z' }]);
    expect(store.failure(hash('e'))).toMatchObject({ code: 'bad-image', message: 'second' });
    store.put([result(hash('e'), [[1, 2]])]);
    expect(store.get(hash('e'))!.scores).toEqual([[1, 2]]);
    expect(store.counts().results).toBe(2);
    store.close();
  });

  it('appends results in a rowid table, and opens a store of the earlier layout (keyed WITHOUT ROWID, computations indexed by task) as it is, its results kept and its unused index dropped', () => {
    const fresh = fs.mkdtempSync(path.join(dir, 'layout-'));
    ResultStore.open(fresh).close();
    const schema = (file: string): Record<string, string> => {
      const db = new Database(file, { readonly: true });
      const rows = db.prepare('SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL').all() as Array<{ name: string; sql: string }>;
      db.close();
      return Object.fromEntries(rows.map((r) => [r.name, r.sql]));
    };
    const now = schema(path.join(fresh, 'cache.sqlite'));
    expect(now.results).not.toMatch(/WITHOUT ROWID/);
    expect(now.computations_task).toBeUndefined();

    const old = fs.mkdtempSync(path.join(dir, 'old-'));
    const db = new Database(path.join(old, 'cache.sqlite'));
    db.exec(`
      CREATE TABLE results (task TEXT PRIMARY KEY, scores TEXT NOT NULL, extra TEXT NOT NULL, timings TEXT, latency_ms REAL NOT NULL,
        raw TEXT NOT NULL, worker TEXT NOT NULL, finished_at TEXT NOT NULL) WITHOUT ROWID;
      CREATE TABLE computations (task TEXT NOT NULL, worker TEXT NOT NULL, stored INTEGER NOT NULL, at TEXT NOT NULL);
      CREATE INDEX computations_task ON computations(task);
    `);
    db.prepare('INSERT INTO results VALUES (?, ?, ?, ?, ?, ?, ?, ?)').run(hash('a'), '[[0.5,0.25]]', '{}', null, 3, '{}', 'host:1', '2026-11-22T00:00:00.000Z');
    db.close();
    const store = ResultStore.open(old);
    expect(store.get(hash('a'))!.scores).toEqual([[0.5, 0.25]]);
    expect(store.put([result(hash('a'), [[0.9, 0.9]]), result(hash('b'), [[0.1, 0.2]])]).stored).toBe(1);
    expect(store.get(hash('b'))!.scores).toEqual([[0.1, 0.2]]);
    expect(store.counts()).toEqual({ results: 2, failures: 0, computations: 2 });
    store.close();
    const after = schema(path.join(old, 'cache.sqlite'));
    expect(after.results).toMatch(/WITHOUT ROWID/);
    expect(after.computations_task).toBeUndefined();
  });
});
