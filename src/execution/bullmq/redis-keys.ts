/**
 * Every Redis key perceive builds itself (BullMQ builds its own as `<prefix>:<queue>:…`). With a
 * hash-tagged prefix (`{perceive}`, the config's default `queue.prefix`) every key of every queue, lock and orphan outcome
 * hashes to one Redis Cluster slot: BullMQ's Lua scripts touch several keys at once, and Redis
 * Cluster refuses scripts whose keys live in different slots (CROSSSLOT).
 */

/**
 * The part of a key Redis Cluster hashes (its CLUSTER KEYSLOT rule): the text between the first
 * `{` and the first `}` after it, when that is not empty; otherwise the whole key.
 */
export function clusterHashTag(key: string): string {
  const open = key.indexOf('{');
  if (open === -1) return key;
  const close = key.indexOf('}', open + 1);
  if (close === -1 || close === open + 1) return key;
  return key.slice(open + 1, close);
}

/** Whether every key under this prefix lands in one Cluster slot (the prefix carries a hash tag). */
export function prefixHasHashTag(prefix: string): boolean {
  return clusterHashTag(prefix) !== prefix;
}

/** `<prefix>:<queue>`: the start of every BullMQ key of one queue. */
export function queueKeyPrefix(prefix: string, queue: string): string {
  return `${prefix}:${queue}`;
}

/**
 * Where a worker leaves what it finished of a bundle whose job vanished (Redis restarted empty,
 * the job removed): the run process stores it before enqueueing the bundle again, and a worker
 * that takes the bundle again skips those tasks, so no task is computed twice.
 */
export function orphanKey(prefix: string, queue: string, bundleId: string): string {
  return `${queueKeyPrefix(prefix, queue)}:orphan:${bundleId}`;
}

/**
 * A worker's claim on a bundle it is computing, kept apart from BullMQ's lock: when Redis
 * restarts empty the worker writes it again as soon as it reconnects (its lock is gone for good),
 * so the run process does not enqueue again a bundle whose tasks are still being computed.
 */
export function heldKey(prefix: string, queue: string, bundleId: string): string {
  return `${queueKeyPrefix(prefix, queue)}:held:${bundleId}`;
}

/** BullMQ's lock of an active job (its value: the worker's token, `<worker id>:<n>`). */
export function jobLockKey(prefix: string, queue: string, jobId: string): string {
  return `${queueKeyPrefix(prefix, queue)}:${jobId}:lock`;
}

/** The SCAN pattern of every queue's meta key under a prefix (how the dashboard finds queues). */
export function queueMetaPattern(prefix: string): string {
  return `${globEscape(prefix)}:*:meta`;
}

/** The SCAN pattern of every key under a prefix. */
export function prefixPattern(prefix: string): string {
  return `${globEscape(prefix)}:*`;
}

/** The queue's name from one of its meta keys found by `queueMetaPattern`. */
export function queueNameOfMetaKey(prefix: string, key: string): string {
  return key.slice(prefix.length + 1, -':meta'.length);
}

/** A literal for Redis's glob matching (`*`, `?`, `[`, `]` and `\` escaped; `{` `}` are literal there). */
function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}
