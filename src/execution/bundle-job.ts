import { z } from 'zod';
import { ArmSpecSchema } from '../config/experiment.js';
import { type Item, ItemSchema } from '../core/item.js';
import { TaskFailureSchema } from '../store/result-store.js';
import { type ArmIdentity, type PlannedBundle, todoTasks } from './plan.js';

/**
 * Bumped when the job layout changes; a worker refuses jobs of another version by name.
 * 2: each item and arm once per bundle, tasks naming them by index (1 repeated both per task).
 */
export const JOB_VERSION = 2;

const ArmIdentitySchema = z.object({
  spec: ArmSpecSchema,
  id: z.string(),
  model: z.string(),
  modelHash: z.string(),
  prompt: z.object({ id: z.string(), version: z.number() }).nullable(),
  params: z.unknown(),
});

/**
 * A bundle as its job carries it: what the worker needs to compute every task on its own (the
 * items, the arm identities, the images with their hashes), each item and arm written once, each
 * task naming its item and arm by index.
 */
export const BundleDataSchema = z
  .object({
    id: z.string(),
    namespace: z.string(),
    model: z.string(),
    modelHash: z.string(),
    images: z.array(z.object({ path: z.string(), rel: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/) })).min(1),
    items: z.array(ItemSchema).min(1),
    arms: z.array(ArmIdentitySchema).min(1),
    tasks: z.array(z.object({ hash: z.string(), item: z.number().int().nonnegative(), arm: z.number().int().nonnegative() })).min(1),
    done: z.array(z.string()).optional(),
  })
  .superRefine((b, ctx) => {
    b.tasks.forEach((t, k) => {
      if (t.item >= b.items.length)
        ctx.addIssue({ code: 'custom', path: ['tasks', k, 'item'], message: `no item ${t.item}: the bundle has ${b.items.length}` });
      if (t.arm >= b.arms.length) ctx.addIssue({ code: 'custom', path: ['tasks', k, 'arm'], message: `no arm ${t.arm}: the bundle has ${b.arms.length}` });
    });
  });
export type BundleData = z.infer<typeof BundleDataSchema>;

/** A job's data: one bundle, and the data root its image paths are relative to on the planning host. */
export const BundleJobSchema = z.object({
  v: z.literal(JOB_VERSION),
  runId: z.string(),
  dataRoot: z.string(),
  bundle: BundleDataSchema,
});
export type BundleJobData = z.infer<typeof BundleJobSchema>;

/** A job as the executor takes it: the bundle with its tasks' items and arms in place. */
export interface BundleJob {
  v: typeof JOB_VERSION;
  runId: string;
  dataRoot: string;
  bundle: PlannedBundle;
}

/** The job's data for a planned bundle: its items and arms once each (by identity), tasks by index. */
export function encodeBundleJob(job: BundleJob): BundleJobData {
  const items = new Map<Item, number>();
  const arms = new Map<ArmIdentity, number>();
  const indexOf = <T>(map: Map<T, number>, value: T): number => {
    let k = map.get(value);
    if (k === undefined) map.set(value, (k = map.size));
    return k;
  };
  const { tasks, ...rest } = job.bundle;
  const encoded = tasks.map((t) => ({ hash: t.hash, item: indexOf(items, t.item), arm: indexOf(arms, t.arm) }));
  return { ...job, bundle: { ...rest, items: [...items.keys()], arms: [...arms.keys()], tasks: encoded } };
}

/** The executor's job from validated job data: each task with its item and arm. */
export function decodeBundleJob(data: BundleJobData): BundleJob {
  const { items, arms, tasks, ...rest } = data.bundle;
  const bundle: PlannedBundle = { ...rest, tasks: tasks.map((t) => ({ hash: t.hash, item: items[t.item]!, arm: arms[t.arm]! as ArmIdentity })) };
  return { v: data.v, runId: data.runId, dataRoot: data.dataRoot, bundle };
}

/** A job's return value (and its progress while it runs: the tasks finished so far). */
export const BundleOutcomeSchema = z.object({
  bundle: z.string(),
  worker: z.string(),
  /** Each result is validated by the store on its own (a malformed one becomes that task's failure). */
  results: z.array(z.unknown()),
  failures: z.array(TaskFailureSchema),
  /** Why the bundle as a whole failed (set before its job fails, so the code travels as data). */
  failure: z.object({ code: z.string(), message: z.string() }).optional(),
});
export interface BundleOutcome {
  bundle: string;
  worker: string;
  /** Checked again by the store; a malformed one becomes a failure there. */
  results: unknown[];
  failures: z.infer<typeof TaskFailureSchema>[];
}

/** The job name in the queue (what Bull Board shows). */
export function jobName(b: PlannedBundle): string {
  const first = b.images[0]?.rel ?? '?';
  return `${todoTasks(b).length} tasks · ${first}${b.images.length > 1 ? ` +${b.images.length - 1}` : ''}`;
}

/** The task hash of a result as it came back (empty when it has none). */
export function resultTask(r: unknown): string {
  const t = r && typeof r === 'object' ? (r as { task?: unknown }).task : undefined;
  return typeof t === 'string' ? t : '';
}
