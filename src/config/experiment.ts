import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import { PerceiveError } from '../core/errors.js';
import { BenchmarkSpecSchema as BenchmarkEntrySchema } from '../benchmarks/benchmark-spec.js';
import { benchmarkFormats } from '../benchmarks/registry.js';
import { ArmSpecSchema, armDefinition, MODEL_KINDS, armSpecId, modelKind, ModelSpecSchema, type ArmSpec, type ModelSpec } from '../models/registry.js';
import { describeZodIssues } from '../core/zod-issues.js';

const MODEL_KIND_NAMES = MODEL_KINDS.map((k) => k.kind);

export { ArmSpecSchema, armSpecId, ModelSpecSchema, type ArmSpec, type ModelSpec };

/**
 * The experiment config (YAML). Paths are relative to the config file's folder.
 * Every field is validated here; a bad field fails with the file and the field's path.
 */

const Name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'letters, digits, ".", "_" and "-" only');

/** The default `queue.prefix`: a Redis Cluster hash tag, so every key perceive and BullMQ build lands in one slot. */
export const DEFAULT_QUEUE_PREFIX = '{perceive}';

/** What `queue.prefix` accepts: letters, digits, `.`, `_`, `-`, with at most one `{hash tag}`. */
export const QUEUE_PREFIX_PATTERN = /^[A-Za-z0-9._-]*(\{[A-Za-z0-9._-]+\})?[A-Za-z0-9._-]*$/;

export const QueueSettingsSchema = z.strictObject({
  /**
   * BullMQ key prefix: runs with different prefixes never see each other's queues. The default is
   * a hash tag (`{perceive}`), so every key lands in one Redis Cluster slot (execution/bullmq/redis-keys.ts).
   */
  prefix: z
    .string()
    .min(1)
    .regex(QUEUE_PREFIX_PATTERN, 'letters, digits, ".", "_" and "-", with at most one {hash tag} (e.g. {perceive})')
    .default(DEFAULT_QUEUE_PREFIX),
  /** Tries per bundle for transient errors (server died, timeout), with exponential backoff. */
  attempts: z.number().int().positive().default(3),
  backoff_ms: z.number().int().nonnegative().default(10_000),
  /** A worker's lock on a bundle; renewed every half period while it works, so calls may take minutes. */
  lock_ms: z.number().int().positive().default(300_000),
  /** How often stalled bundles (a worker that died) are looked for and put back. */
  stalled_check_ms: z.number().int().positive().default(60_000),
  /**
   * Consecutive bundles of one model are merged into one job until it holds at least this many
   * tasks (images stay together, in plan order): a job costs a few milliseconds of queue work, which
   * a one-task bundle (one arm, one image) would pay per task. 1 = one job per image (or pair).
   */
  min_bundle_tasks: z.number().int().positive().default(8),
  /**
   * How long the run process waits for Redis when it goes away (finished results are safe in the
   * store meanwhile) before it exits with the command that resumes it.
   */
  redis_wait_ms: z.number().int().nonnegative().default(300_000),
  /** How many times a local worker that died (a signal, the out-of-memory killer) is restarted per model before the run gives up. */
  worker_restarts: z.number().int().nonnegative().default(3),
});

/** A benchmark entry whose `format` is one of the registered families'. */
export const BenchmarkSpecSchema = BenchmarkEntrySchema.extend({
  format: z.enum(benchmarkFormats() as [string, ...string[]]),
});

export const ExperimentConfigSchema = z.strictObject({
  name: Name,
  seed: z.number().int().nonnegative().default(0),
  /** Where results/<run-id>/ goes. */
  output: z.string().min(1).default('results'),
  benchmarks: z.array(BenchmarkSpecSchema).min(1),
  models: z.record(Name, ModelSpecSchema),
  arms: z.array(ArmSpecSchema).min(1),
  /** Which arm the per-item comparison is against (the contrastive baseline). */
  baseline: z.string().default('clip'),
  /** How bundles are queued and retried (README "Overnight and multi-host runs"). */
  queue: QueueSettingsSchema.prefault({}),
});

export type ExperimentConfig = z.infer<typeof ExperimentConfigSchema>;
export type BenchmarkSpec = z.infer<typeof BenchmarkSpecSchema>;
export type QueueSettings = z.infer<typeof QueueSettingsSchema>;

export interface LoadedConfig {
  file: string;
  config: ExperimentConfig;
  /** The raw text, recorded in the manifest. */
  text: string;
}

/** Resolves every path field against the config file's folder. */
function resolvePaths(config: ExperimentConfig, baseDir: string): ExperimentConfig {
  const r = (p: string): string => path.resolve(baseDir, p);
  return {
    ...config,
    output: r(config.output),
    benchmarks: config.benchmarks.map((b) => ({
      ...b,
      annotations: r(b.annotations),
      data_dir: r(b.data_dir),
      extra_files: Object.fromEntries(Object.entries(b.extra_files).map(([k, v]) => [k, r(v)])),
    })),
    models: Object.fromEntries(Object.entries(config.models).map(([name, m]) => [name, modelKind(m.kind).resolvePaths(m, r) as ModelSpec])),
  };
}

export function parseExperimentConfig(text: string, file: string): ExperimentConfig {
  let raw: unknown;
  try {
    raw = YAML.parse(text, { prettyErrors: true });
  } catch (error) {
    throw new PerceiveError('bad-config', `${file}: not valid YAML: ${(error as Error).message}`);
  }
  const parsed = ExperimentConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.slice(0, 5).map((issue) => `${file}: ${describeZodIssues(new z.ZodError([issue]), { root: '(top level)' })}`);
    throw new PerceiveError('bad-config', lines.join('\n'));
  }
  const config = parsed.data;
  const issues: string[] = [];
  config.arms.forEach((arm, i) => {
    const model = config.models[arm.model];
    if (!model) issues.push(`${file}: field arms[${i}].model: no model named "${arm.model}" under models`);
    else {
      const needs = armDefinition(arm.arm).needs;
      const kind = modelKind(model.kind);
      if (kind.provides !== needs) {
        const fits = MODEL_KIND_NAMES.filter((k) => modelKind(k).provides === needs).join(' or ');
        issues.push(`${file}: field arms[${i}].model: arm ${arm.arm} needs a model of kind ${fits}, "${arm.model}" is ${model.kind}`);
      }
    }
  });
  const armIds = config.arms.map(armSpecId);
  armIds.forEach((id, i) => {
    if (armIds.indexOf(id) !== i) issues.push(`${file}: field arms[${i}]: duplicate arm id "${id}" (give one of them a label)`);
  });
  const names = config.benchmarks.map((b) => b.name);
  names.forEach((n, i) => {
    if (names.indexOf(n) !== i) issues.push(`${file}: field benchmarks[${i}].name: duplicate name "${n}"`);
  });
  config.benchmarks.forEach((b, i) => {
    (b.arms ?? []).forEach((id, k) => {
      if (!armIds.includes(id)) issues.push(`${file}: field benchmarks[${i}].arms[${k}]: no arm with id "${id}" (arms: ${armIds.join(', ')})`);
    });
  });
  if (issues.length > 0) throw new PerceiveError('bad-config', issues.join('\n'));
  return resolvePaths(config, path.dirname(path.resolve(file)));
}

export function loadExperimentConfig(file: string): LoadedConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new PerceiveError('bad-config', `cannot read config ${file}: ${(error as Error).message}`);
  }
  return { file: path.resolve(file), config: parseExperimentConfig(text, file), text };
}
