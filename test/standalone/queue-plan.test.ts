import { describe, expect, it } from 'vitest';
import type { Item } from '../../src/core/item.js';
import { type ArmIdentity, commonRoot, mergeBundles, planBundles, relativeToRoot, taskHash, todoTasks, withoutTasks } from '../../src/execution/plan.js';

const item = (id: string, image: string, options = ['a dog left of a cat', 'a dog right of a cat']): Item => ({
  id,
  benchmark: 'b',
  subset: 's',
  images: [image],
  options,
  correct: 0,
  groups: {},
  source: { file: 'f.json', row: Number(id.split('/')[1]) },
  meta: {},
});
const arm = (id: string, model: string, extra: Partial<ArmIdentity> = {}): ArmIdentity => ({
  spec: id === 'clip' ? { arm: 'clip', model } : { arm: 'vlm.vqascore', model, prompt_format: 'llava-v1', pad_to_square: true },
  id,
  model,
  modelHash: `${model}-hash`,
  prompt: { id: `${id}.prompt`, version: 1 },
  params: null,
  ...extra,
});
const hashes = new Map([
  ['/data/x/1.jpg', 'a'.repeat(64)],
  ['/data/x/2.jpg', 'b'.repeat(64)],
  ['/data/y/1.jpg', 'a'.repeat(64)],
]);

describe('planning bundles and task hashes', () => {
  it('groups the tasks of one image and model into one bundle, arms in config order, with stable ids', () => {
    const items = [item('b/0', '/data/x/1.jpg'), item('b/1', '/data/x/2.jpg'), item('b/2', '/data/x/1.jpg', ['x', 'y'])];
    const arms = [arm('clip', 'clip'), arm('vlm.vqascore', 'llava'), arm('vlm.vqascore2', 'llava')];
    const plan = planBundles({ items, arms, imageHashes: hashes, dataRoot: '/data', seed: 0 });
    expect(plan.map((b) => `${b.model} ${b.images.map((i) => i.rel).join()} ${b.tasks.length}`)).toEqual([
      'clip x/1.jpg 2',
      'clip x/2.jpg 1',
      'llava x/1.jpg 4',
      'llava x/2.jpg 2',
    ]);
    expect(plan[2]!.tasks.map((t) => `${t.item.id} ${t.arm.id}`)).toEqual(['b/0 vlm.vqascore', 'b/0 vlm.vqascore2', 'b/2 vlm.vqascore', 'b/2 vlm.vqascore2']);
    const again = planBundles({ items, arms, imageHashes: hashes, dataRoot: '/data', seed: 0 });
    expect(again.map((b) => b.id)).toEqual(plan.map((b) => b.id));
    expect(new Set(plan.map((b) => b.id)).size).toBe(4);
  });

  it('merges consecutive small bundles of one model up to the minimum task count, never across models, keeping image order', () => {
    const items = [item('b/0', '/data/x/1.jpg'), item('b/1', '/data/x/2.jpg'), item('b/2', '/data/x/1.jpg', ['x', 'y'])];
    const arms = [arm('clip', 'clip'), arm('vlm.vqascore', 'llava'), arm('vlm.vqascore2', 'llava')];
    const plan = planBundles({ items, arms, imageHashes: hashes, dataRoot: '/data', seed: 0 });
    // clip: 2 + 1 tasks → one bundle of 3; llava: 4 tasks (≥ 3, kept), then 2 (the last, alone).
    const merged = mergeBundles(plan, 3);
    expect(merged.map((b) => `${b.model} ${b.images.map((i) => i.rel).join()} ${b.tasks.length}`)).toEqual([
      'clip x/1.jpg,x/2.jpg 3',
      'llava x/1.jpg 4',
      'llava x/2.jpg 2',
    ]);
    expect(merged[0]!.tasks.map((t) => t.hash)).toEqual([...plan[0]!.tasks, ...plan[1]!.tasks].map((t) => t.hash));
    expect(merged[1]).toBe(plan[2]);
    expect(merged[0]!.id).not.toBe(plan[0]!.id);
    expect(mergeBundles(plan, 3).map((b) => b.id)).toEqual(merged.map((b) => b.id));
    expect(mergeBundles(plan, 1)).toBe(plan);
    expect(mergeBundles(plan, 100).map((b) => b.tasks.length)).toEqual([3, 6]);
    // Nothing lost or repeated.
    expect(merged.flatMap((b) => b.tasks.map((t) => t.hash)).sort()).toEqual(plan.flatMap((b) => b.tasks.map((t) => t.hash)).sort());
  });

  it('plans only the arms a benchmark admits, and no empty bundle', () => {
    const items = [item('b/0', '/data/x/1.jpg'), { ...item('c/1', '/data/x/2.jpg'), benchmark: 'c' }];
    const arms = [arm('clip', 'clip'), arm('vlm.vqascore', 'llava')];
    const admits = (i: Item, a: ArmIdentity): boolean => i.benchmark === 'b' || a.id === 'clip';
    const plan = planBundles({ items, arms, imageHashes: hashes, dataRoot: '/data', seed: 0, admits });
    expect(plan.map((b) => `${b.model} ${b.images.map((i) => i.rel).join()} ${b.tasks.map((t) => `${t.item.id} ${t.arm.id}`).join()}`)).toEqual([
      'clip x/1.jpg b/0 clip',
      'clip x/2.jpg c/1 clip',
      'llava x/1.jpg b/0 vlm.vqascore',
    ]);
    // The same tasks (same hashes) as without the filter.
    const all = planBundles({ items, arms, imageHashes: hashes, dataRoot: '/data', seed: 0 }).flatMap((b) => b.tasks.map((t) => t.hash));
    expect(all).toEqual(expect.arrayContaining(plan.flatMap((b) => b.tasks.map((t) => t.hash))));
    expect(all).toHaveLength(4);
  });

  it('task hashes depend on content only: the same question in another run, item or folder is the same task', () => {
    const a = planBundles({ items: [item('b/0', '/data/x/1.jpg')], arms: [arm('clip', 'clip')], imageHashes: hashes, dataRoot: '/data', seed: 0 });
    const b = planBundles({ items: [item('b/7', '/data/y/1.jpg')], arms: [arm('clip', 'clip')], imageHashes: hashes, dataRoot: '/data', seed: 0 });
    expect(b[0]!.tasks[0]!.hash).toBe(a[0]!.tasks[0]!.hash);
    const base = {
      modelHash: 'm',
      arm: 'vlm.vqascore',
      prompt: { id: 'p', version: 1 },
      params: null,
      imageHashes: ['a'],
      options: ['x', 'y'],
      meta: {},
      seed: 0,
    };
    const h = taskHash(base);
    expect(taskHash({ ...base })).toBe(h);
    for (const changed of [
      { modelHash: 'm2' },
      { prompt: { id: 'p', version: 2 } },
      { params: { lambda: 0.5 } },
      { imageHashes: ['b'] },
      { options: ['y', 'x'] },
      { meta: { question: 'Is the dog left?' } },
      { seed: 1 },
    ]) {
      expect(taskHash({ ...base, ...changed })).not.toBe(h);
    }
    expect(taskHash({ ...base, meta: { a: 1, b: 2 } })).toBe(taskHash({ ...base, meta: { b: 2, a: 1 } }));
  });

  it('marks stored tasks done (kept for pair context, not computed; a new id), and drops a bundle with none left', () => {
    const [b] = planBundles({
      items: [item('b/0', '/data/x/1.jpg'), item('b/2', '/data/x/1.jpg', ['x', 'y'])],
      arms: [arm('clip', 'clip')],
      imageHashes: hashes,
      dataRoot: '/data',
      seed: 0,
    });
    expect(withoutTasks(b!, new Set())).toBe(b);
    const rest = withoutTasks(b!, new Set([b!.tasks[0]!.hash]))!;
    expect(rest.tasks).toHaveLength(2);
    expect(rest.done).toEqual([b!.tasks[0]!.hash]);
    expect(todoTasks(rest).map((t) => t.item.id)).toEqual(['b/2']);
    expect(rest.id).not.toBe(b!.id);
    expect(withoutTasks(rest, new Set([b!.tasks[0]!.hash]))).toBe(rest);
    expect(withoutTasks(b!, new Set(b!.tasks.map((t) => t.hash)))).toBeUndefined();
  });

  it('puts the two items of a pair in one bundle, and hashes each with its partner', () => {
    const paired = (id: string, image: string, pair: string): Item => ({ ...item(id, image), groups: { pair } });
    const plan = (second: string): ReturnType<typeof planBundles> =>
      planBundles({
        items: [paired('b/0', '/data/x/1.jpg', 'p1'), paired('b/1', second, 'p1')],
        arms: [arm('vlm.two-image', 'llava')],
        imageHashes: hashes,
        dataRoot: '/data',
        seed: 0,
      });
    const a = plan('/data/x/2.jpg');
    expect(a).toHaveLength(1);
    expect(a[0]!.images.map((i) => i.rel)).toEqual(['x/1.jpg', 'x/2.jpg']);
    expect(a[0]!.tasks.map((t) => t.item.id)).toEqual(['b/0', 'b/1']);
    // The same first item with another partner image is another task; alone, another again.
    const b = plan('/data/y/1.jpg');
    expect(b[0]!.tasks[0]!.hash).not.toBe(a[0]!.tasks[0]!.hash);
    const alone = planBundles({
      items: [item('b/0', '/data/x/1.jpg')],
      arms: [arm('vlm.two-image', 'llava')],
      imageHashes: hashes,
      dataRoot: '/data',
      seed: 0,
    });
    expect(alone[0]!.tasks[0]!.hash).not.toBe(a[0]!.tasks[0]!.hash);
  });

  it('image paths travel relative to the data root', () => {
    expect(commonRoot(['/data/whatsup', '/data/mmvp/images'])).toBe('/data');
    expect(commonRoot(['/data/whatsup'])).toBe('/data/whatsup');
    expect(relativeToRoot('/data', '/data/whatsup/a/b.jpg')).toBe('whatsup/a/b.jpg');
    expect(relativeToRoot('/data', '/elsewhere/b.jpg')).toBe('/elsewhere/b.jpg');
  });
});
