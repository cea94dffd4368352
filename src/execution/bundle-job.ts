import { z } from 'zod';
import { ArmSpecSchema } from '../config/experiment.js';
import { ItemSchema } from '../core/item.js';
import { TaskFailureSchema } from '../store/result-store.js';
import { type PlannedBundle, todoTasks } from './plan.js';

/** Bumped when the job layout changes; a worker refuses jobs of another version by name. */
export const JOB_VERSION = 1;

const ArmIdentitySchema = z.object({
  spec: ArmSpecSchema,
  id: z.string(),
  model: z.string(),
  modelHash: z.string(),
  prompt: z.object({ id: z.string(), version: z.number() }).nullable(),
  params: z.unknown(),
});

export const PlannedBundleSchema = z.object({
  id: z.string(),
  namespace: z.string(),
  model: z.string(),
  modelHash: z.string(),
  images: z.array(z.object({ path: z.string(), rel: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/) })).min(1),
  tasks: z.array(z.object({ hash: z.string(), item: ItemSchema, arm: ArmIdentitySchema })).min(1),
  done: z.array(z.string()).optional(),
});

/** A job's data: one bundle, and the data root its image paths are relative to on the planning host. */
export const BundleJobSchema = z.object({
  v: z.literal(JOB_VERSION),
  runId: z.string(),
  dataRoot: z.string(),
  bundle: PlannedBundleSchema,
});
export type BundleJob = z.infer<typeof BundleJobSchema> & { bundle: PlannedBundle };

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
