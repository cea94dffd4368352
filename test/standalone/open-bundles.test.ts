import { describe, expect, it } from 'vitest';
import { OpenBundles } from '../../src/run/open-bundles.js';

interface B {
  id: string;
}

const bundles = (n: number): B[] => Array.from({ length: n }, (_, i) => ({ id: `b${i}` }));

describe('OpenBundles: the periodic look for vanished jobs, a few bundles at a time', () => {
  it('takes the next `limit` bundles in turn, wraps round, and returns each open bundle once per pass', () => {
    const open = new OpenBundles(bundles(5000), () => true);
    const a = open.next(2000);
    const b = open.next(2000);
    const c = open.next(2000);
    expect([a.length, b.length, c.length]).toEqual([2000, 2000, 2000]);
    expect(a[0]!.id).toBe('b0');
    expect(b[0]!.id).toBe('b2000');
    // The third look passes the end (1,000 left) and goes on from the start.
    expect(c[0]!.id).toBe('b4000');
    expect(c[999]!.id).toBe('b4999');
    expect(c[1000]!.id).toBe('b0');
    expect(new Set([...a, ...b, ...c.slice(0, 1000)].map((x) => x.id)).size).toBe(5000);
  });

  it('every bundle, each once, from where the last look stopped', () => {
    const open = new OpenBundles(bundles(10), () => true);
    open.next(3);
    const all = open.next(Number.POSITIVE_INFINITY);
    expect(all.map((x) => x.id)).toEqual(['b3', 'b4', 'b5', 'b6', 'b7', 'b8', 'b9', 'b0', 'b1', 'b2']);
  });

  it('drops a finished bundle when a look passes it; a replaced bundle is looked at as what is left of it', () => {
    const finished = new Set(['b1', 'b3']);
    const open = new OpenBundles(bundles(6), (x) => !finished.has(x.id));
    expect(open.next(4).map((x) => x.id)).toEqual(['b0', 'b2']);
    expect(open.size).toBe(4);
    open.replace({ id: 'b4' }, { id: 'b4-rest' });
    open.replace({ id: 'b5' }, undefined);
    expect(open.next(Number.POSITIVE_INFINITY).map((x) => x.id)).toEqual(['b4-rest', 'b0', 'b2']);
    finished.add('b0');
    expect(open.next(Number.POSITIVE_INFINITY).map((x) => x.id)).toEqual(['b4-rest', 'b2']);
    expect(open.size).toBe(2);
  });

  it('an empty run: nothing to look at', () => {
    expect(new OpenBundles<B>([], () => true).next(2000)).toEqual([]);
  });
});
