import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { StageClock } from '../../src/run/stage-clock.js';

/** A pino logger whose JSON lines land in `lines`. */
function memoryLogger(): { log: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { log: pino({ base: null, timestamp: false }, stream), lines };
}

function spin(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // busy: this process's CPU time grows with the wall time
  }
}

describe('StageClock', () => {
  it("logs a stage's fields, then ms, cpuMs and heapMb, and starts the next stage", async () => {
    const { log, lines } = memoryLogger();
    const clock = new StageClock();
    spin(30);
    clock.done(log, 'benchmarks loaded', { items: 3, badRows: 1 });
    clock.done(log, 'images hashed', { images: 2, unreadable: 0 });
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines.map((l) => Object.keys(l))).toEqual([
      ['level', 'items', 'badRows', 'ms', 'cpuMs', 'heapMb', 'msg'],
      ['level', 'images', 'unreadable', 'ms', 'cpuMs', 'heapMb', 'msg'],
    ]);
    const [first, second] = lines as [Record<string, number>, Record<string, number>];
    expect(first.msg).toBe('benchmarks loaded');
    expect(first.items).toBe(3);
    expect(first.ms).toBeGreaterThanOrEqual(30);
    expect(Number.isInteger(first.cpuMs) && first.cpuMs! >= 0).toBe(true); // this process's CPU time: less than the wall time on a busy machine
    expect(first.heapMb).toBeGreaterThan(0);
    expect(second.ms).toBeLessThan(first.ms!); // the second stage began when the first was logged
  });

  it('elapsed() gives ms and cpuMs only; restart() begins again', () => {
    const clock = new StageClock();
    spin(20);
    expect(Object.keys(clock.elapsed())).toEqual(['ms', 'cpuMs']);
    expect(clock.elapsed().ms).toBeGreaterThanOrEqual(20);
    clock.restart();
    expect(clock.elapsed().ms).toBeLessThan(20);
  });
});
