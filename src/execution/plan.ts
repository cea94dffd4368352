import { createHash } from 'node:crypto';
import path from 'node:path';
import { pairKey } from '../core/item-pairs.js';
import type { ArmSpec } from '../config/experiment.js';
import type { Item } from '../core/item.js';
import { taskParams } from '../core/option-order.js';

/**
 * What an arm computes, without its runner: enough to hash its tasks and to rebuild it on a
 * worker (`spec` goes through `createArm` there). `id`, `prompt` and `params` come from the arm.
 */
export interface ArmIdentity {
  spec: ArmSpec;
  id: string;
  /** The model name from the config (the queue's name). */
  model: string;
  modelHash: string;
  prompt: { id: string; version: number } | null;
  params: unknown;
}

/** An image a bundle needs: where it is under the data root, and its content hash. */
export interface BundleImage {
  /** As the planning host sees it (absolute); samples record this path. */
  path: string;
  /** Relative to the run's data root (posix separators); a worker resolves it under its own PERCEIVE_DATA_DIR. */
  rel: string;
  sha256: string;
}

export interface PlannedTask {
  /** Content hash: see `taskHash`. */
  hash: string;
  item: Item;
  arm: ArmIdentity;
}

/**
 * A bundle: every task of one image (or image pair) for one model, in prefix-cache order (all
 * prompts of an image together, arms in config order), so the image prefix is encoded once.
 * The id is a content hash of its tasks: the same plan gives the same job ids.
 */
export interface PlannedBundle {
  id: string;
  /** The store the results go to (part of the id). */
  namespace: string;
  model: string;
  modelHash: string;
  images: BundleImage[];
  tasks: PlannedTask[];
  /** Tasks already stored: kept for context (pair partners), not computed again. */
  done?: string[];
}

/**
 * Content hash of one task: model file hash, arm, prompt id + version, arm parameters (with the
 * item's effective option order: `taskParams`; none for `fixed`), image
 * hashes, the texts the model sees (options and item meta), the seed, and for a pair's item its
 * partner. Nothing run-specific
 * (no run id, no item id, no path), so any run that asks the same question re-uses the answer.
 */
export function taskHash(parts: {
  modelHash: string;
  arm: string;
  prompt: { id: string; version: number } | null;
  params: unknown;
  imageHashes: string[];
  options: string[];
  meta: Record<string, unknown>;
  seed: number;
  /** What else the answer may depend on: a pair partner's image hashes, texts and meta. */
  context?: unknown;
}): string {
  const canonical: unknown[] = [
    parts.modelHash,
    parts.arm,
    parts.prompt,
    parts.params ?? null,
    parts.imageHashes,
    parts.options,
    sortKeys(parts.meta),
    parts.seed,
  ];
  if (parts.context !== undefined) canonical.push(sortKeys(parts.context));
  return createHash('sha256').update(JSON.stringify(canonical)).digest('hex');
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

/** The path of `file` relative to `root` (posix), or the absolute path when it is outside. */
export function relativeToRoot(root: string, file: string): string {
  const rel = path.relative(root, file);
  if (rel.startsWith('..') || path.isAbsolute(rel)) return path.resolve(file);
  return rel.split(path.sep).join('/');
}

/** The deepest folder holding every data dir: the run's data root when PERCEIVE_DATA_DIR is not set. */
export function commonRoot(dirs: string[]): string {
  if (dirs.length === 0) return path.resolve('.');
  let parts = path.resolve(dirs[0]!).split(path.sep);
  for (const d of dirs.slice(1)) {
    const other = path.resolve(d).split(path.sep);
    let k = 0;
    while (k < parts.length && k < other.length && parts[k] === other[k]) k++;
    parts = parts.slice(0, k);
  }
  return parts.join(path.sep) || path.sep;
}

/**
 * Plans bundles: tasks grouped by (model, image or image pair); models in arm order, groups in
 * the order the benchmark lists them, arms of one model in config order inside a bundle. The two
 * single-image items of a pair (`pairKey`: MMVP consecutive rows, What'sUp `groups.pair`) share one
 * bundle with both images, so pair-aware arms (vlm.two-image) find the partner in `prepare`; their
 * task hashes then also cover the partner (its image hashes, texts and meta), since a pair-aware
 * answer depends on it. `imageHashes` maps every image path of `items` to its sha256.
 */
export function planBundles(args: {
  items: Item[];
  arms: ArmIdentity[];
  imageHashes: Map<string, string>;
  dataRoot: string;
  seed: number;
  /** Where the results go (the store file): two runs with different stores never share a job. */
  namespace?: string;
  /** Whether an arm runs on an item (a benchmark's `arms`); default every arm on every item. */
  admits?: (item: Item, arm: ArmIdentity) => boolean;
}): PlannedBundle[] {
  const hashOf = (p: string): string => {
    const h = args.imageHashes.get(p);
    if (!h) throw new Error(`unreachable: image ${p} was not hashed before planning`);
    return h;
  };
  const byModel = new Map<string, ArmIdentity[]>();
  for (const arm of args.arms) byModel.set(arm.model, [...(byModel.get(arm.model) ?? []), arm]);
  // Groups of items: a pair's items together, else the items of one image (or image set). Only a
  // real pair (exactly two items share the key, as ItemPairs requires) is grouped as one: rows
  // repeated many times share a key too, and grouping them made planning quadratic.
  const keyCount = new Map<string, number>();
  for (const item of args.items) {
    const pair = pairKey(item);
    if (pair !== undefined) keyCount.set(pair, (keyCount.get(pair) ?? 0) + 1);
  }
  const realPair = (item: Item): string | undefined => {
    const pair = pairKey(item);
    return pair !== undefined && keyCount.get(pair) === 2 ? pair : undefined;
  };
  const groups = new Map<string, Item[]>();
  for (const item of args.items) {
    const pair = realPair(item);
    const key = pair !== undefined ? `pair\u0000${pair}` : `images\u0000${item.images.map(hashOf).join('\u0000')}`;
    let list = groups.get(key);
    if (!list) groups.set(key, (list = []));
    list.push(item);
  }
  const out: PlannedBundle[] = [];
  for (const [model, arms] of byModel) {
    for (const items of groups.values()) {
      const paths = [...new Set(items.flatMap((i) => i.images))];
      const b: PlannedBundle = {
        id: '',
        namespace: args.namespace ?? '',
        model,
        modelHash: arms[0]!.modelHash,
        images: paths.map((p) => ({ path: p, rel: relativeToRoot(args.dataRoot, p), sha256: hashOf(p) })),
        tasks: [],
      };
      for (const item of items) {
        const key = realPair(item);
        const partners = key === undefined ? [] : items.filter((o) => o !== item && realPair(o) === key);
        const context = partners.map((o) => ({ images: o.images.map(hashOf), options: o.options, meta: o.meta }));
        for (const arm of arms) {
          if (args.admits && !args.admits(item, arm)) continue;
          const hash = taskHash({
            modelHash: arm.modelHash,
            arm: arm.id,
            prompt: arm.prompt,
            params: taskParams(arm.params, item),
            imageHashes: item.images.map(hashOf),
            options: item.options,
            meta: item.meta,
            seed: args.seed,
            ...(context.length > 0 ? { context } : {}),
          });
          b.tasks.push({ hash, item, arm });
        }
      }
      if (b.tasks.length === 0) continue;
      b.id = bundleId(b);
      out.push(b);
    }
  }
  return out;
}

/**
 * Merges consecutive bundles of one model (and store) until each holds at least `minTasks`
 * tasks, so that small bundles (one arm on one image: one task) do not each pay a job's queue
 * work. Bundles are never split: an image's (or a pair's) tasks stay together and in order, so
 * the prefix-cache order is kept. The merged bundle's id covers all its tasks.
 */
export function mergeBundles(bundles: PlannedBundle[], minTasks: number): PlannedBundle[] {
  if (minTasks <= 1) return bundles;
  const out: PlannedBundle[] = [];
  let open: PlannedBundle | undefined;
  const close = (): void => {
    if (!open) return;
    open.id = bundleId(open);
    out.push(open);
    open = undefined;
  };
  for (const b of bundles) {
    if (open && (open.model !== b.model || open.modelHash !== b.modelHash || open.namespace !== b.namespace)) close();
    if (!open) {
      if (b.tasks.length >= minTasks) {
        out.push(b);
        continue;
      }
      open = { ...b, images: [...b.images], tasks: [...b.tasks] };
    } else {
      const have = new Set(open.images.map((i) => i.path));
      open.images.push(...b.images.filter((i) => !have.has(i.path)));
      open.tasks.push(...b.tasks);
    }
    if (open.tasks.length >= minTasks) close();
  }
  close();
  return out;
}

/**
 * The job id: a hash of the store it feeds, the model and the bundle's task hashes (the same plan
 * enqueued twice is one job; a run with another store, e.g. a test in another folder sharing the
 * Redis, gets its own job instead of having its results drained into a store it does not read).
 */
export function bundleId(b: Pick<PlannedBundle, 'namespace' | 'model' | 'modelHash' | 'tasks' | 'done'>): string {
  const h = createHash('sha256').update(`${b.namespace}\u0000${b.model}\u0000${b.modelHash}`);
  for (const t of todoTasks(b)) h.update(`\u0000${t.hash}`);
  return h.digest('hex').slice(0, 40);
}

/**
 * The bundle with the tasks in `done` marked as done: they stay in the bundle (a pair-aware arm
 * still needs both items of a pair in `prepare`) but are neither computed nor returned. The id
 * covers only the tasks left, so it changes with them. Undefined when nothing is left.
 */
export function withoutTasks(b: PlannedBundle, done: Set<string>): PlannedBundle | undefined {
  const finished = [...new Set([...(b.done ?? []), ...b.tasks.filter((t) => done.has(t.hash)).map((t) => t.hash)])];
  if (finished.length === (b.done ?? []).length) return todoTasks(b).length > 0 ? b : undefined;
  const out: PlannedBundle = { ...b, done: finished };
  if (todoTasks(out).length === 0) return undefined;
  out.id = bundleId(out);
  return out;
}

/** The tasks of a bundle still to compute. */
export function todoTasks(b: Pick<PlannedBundle, 'tasks' | 'done'>): PlannedTask[] {
  if (!b.done || b.done.length === 0) return b.tasks;
  const done = new Set(b.done);
  return b.tasks.filter((t) => !done.has(t.hash));
}
