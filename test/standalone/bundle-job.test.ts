import { describe, expect, it } from 'vitest';
import type { Item } from '../../src/core/item.js';
import { describeZodIssues } from '../../src/core/zod-issues.js';
import { BundleJobSchema, decodeBundleJob, encodeBundleJob, JOB_VERSION } from '../../src/execution/bundle-job.js';
import { type ArmIdentity, planBundles, withoutTasks } from '../../src/execution/plan.js';

const item = (id: string, image: string): Item => ({
  id,
  benchmark: 'b',
  subset: 's',
  images: [image],
  options: ['a dog left of a cat', 'a dog right of a cat'],
  correct: 0,
  groups: { relation: 'left' },
  source: { file: 'f.json', row: Number(id.split('/')[1]) },
  meta: { question: 'where is the dog?' },
});
const arm = (id: string): ArmIdentity => ({
  spec: { arm: 'vlm.vqascore', model: 'llava', prompt_format: 'llava-v1', pad_to_square: true },
  id,
  model: 'llava',
  modelHash: 'llava-hash',
  prompt: { id: `${id}.prompt`, version: 1 },
  params: { temperature: 0 },
});
const hashes = new Map([
  ['/data/x/1.jpg', 'a'.repeat(64)],
  ['/data/x/2.jpg', 'b'.repeat(64)],
]);
const items = [item('b/0', '/data/x/1.jpg'), item('b/1', '/data/x/1.jpg'), item('b/2', '/data/x/2.jpg')];
const arms = [arm('vlm.a'), arm('vlm.b'), arm('vlm.c')];
const [bundle] = planBundles({ items: items.slice(0, 2), arms, imageHashes: hashes, dataRoot: '/data', seed: 0 });

/** Through Redis and back: JSON, then the worker's validation. */
const viaRedis = (data: unknown) => BundleJobSchema.safeParse(JSON.parse(JSON.stringify(data)));

describe('bundle job data (what a job carries to its worker)', () => {
  it('carries each item and arm once and gives the worker the same tasks, in order, as the plan', () => {
    expect(bundle!.tasks).toHaveLength(6);
    const data = encodeBundleJob({ v: JOB_VERSION, runId: 'r', dataRoot: '/data', bundle: bundle! });
    expect(data.bundle.items.map((i) => i.id)).toEqual(['b/0', 'b/1']);
    expect(data.bundle.arms.map((a) => a.id)).toEqual(['vlm.a', 'vlm.b', 'vlm.c']);
    expect(data.bundle.tasks.map((t) => [t.item, t.arm])).toEqual([
      [0, 0],
      [0, 1],
      [0, 2],
      [1, 0],
      [1, 1],
      [1, 2],
    ]);
    const parsed = viaRedis(data);
    expect(parsed.success).toBe(true);
    const job = decodeBundleJob(parsed.data!);
    expect(job).toEqual({ v: JOB_VERSION, runId: 'r', dataRoot: '/data', bundle: JSON.parse(JSON.stringify(bundle)) });
    // One object per item on the worker too: every arm's task of an item sees the same item.
    expect(job.bundle.tasks[0]!.item).toBe(job.bundle.tasks[2]!.item);
    // Smaller than the same bundle with the item and arm repeated per task (layout 1).
    const old = JSON.stringify({ v: 1, runId: 'r', dataRoot: '/data', bundle });
    expect(JSON.stringify(data).length).toBeLessThan(old.length * 0.6);
  });

  it('keeps the tasks already done (their items stay for pair context) and the id that covers the rest', () => {
    const rest = withoutTasks(bundle!, new Set([bundle!.tasks[0]!.hash]))!;
    const job = decodeBundleJob(viaRedis(encodeBundleJob({ v: JOB_VERSION, runId: 'r', dataRoot: '/data', bundle: rest })).data!);
    expect(job.bundle.done).toEqual([bundle!.tasks[0]!.hash]);
    expect(job.bundle.id).toBe(rest.id);
    expect(job.bundle.tasks.map((t) => t.hash)).toEqual(bundle!.tasks.map((t) => t.hash));
  });

  it('refuses a task that names an item or arm the job does not hold, naming the field, and a job of layout 1', () => {
    const data = encodeBundleJob({ v: JOB_VERSION, runId: 'r', dataRoot: '/data', bundle: bundle! });
    data.bundle.tasks[4]!.item = 7;
    const parsed = viaRedis(data);
    expect(parsed.success).toBe(false);
    expect(describeZodIssues(parsed.error!, { limit: 1 })).toBe('field bundle.tasks[4].item: no item 7: the bundle has 2');
    const old = viaRedis({ v: 1, runId: 'r', dataRoot: '/data', bundle });
    expect(old.success).toBe(false);
    expect(describeZodIssues(old.error!, { limit: 1 })).toMatch(/^field v\b/);
  });
});
