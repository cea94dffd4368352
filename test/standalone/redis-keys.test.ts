import { QueueKeys } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { DEFAULT_QUEUE_PREFIX, QueueSettingsSchema } from '../../src/config/experiment.js';
import { queueName } from '../../src/execution/bullmq/bundle-queue.js';
import {
  clusterHashTag,
  heldKey,
  jobLockKey,
  orphanKey,
  prefixHasHashTag,
  prefixPattern,
  queueKeyPrefix,
  queueMetaPattern,
  queueNameOfMetaKey,
} from '../../src/execution/bullmq/redis-keys.js';

describe('Redis keys on Redis Cluster (one hash tag for every key)', () => {
  it("reads the hash tag as Redis Cluster's CLUSTER KEYSLOT does", () => {
    expect(clusterHashTag('{perceive}:llava-0123456789ab:wait')).toBe('perceive');
    expect(clusterHashTag('team-{perceive}:q:1:lock')).toBe('perceive');
    // An empty tag, or no closing brace: the whole key is hashed.
    expect(clusterHashTag('{}perceive:q')).toBe('{}perceive:q');
    expect(clusterHashTag('{perceive:q')).toBe('{perceive:q');
    // Only the first {…} counts.
    expect(clusterHashTag('{a}{b}:c')).toBe('a');
    expect(clusterHashTag('perceive:q:wait')).toBe('perceive:q:wait');
  });

  it('the default prefix is a hash tag, and every key perceive or BullMQ builds under it keeps that tag', () => {
    expect(QueueSettingsSchema.parse({}).prefix).toBe('{perceive}');
    expect(DEFAULT_QUEUE_PREFIX).toBe('{perceive}');
    expect(prefixHasHashTag(DEFAULT_QUEUE_PREFIX)).toBe(true);
    const queue = queueName('llava', 'd513a47cf3224f0e9a1b');
    expect(queue).toBe('llava-d513a47cf322');
    const ours = [
      queueKeyPrefix(DEFAULT_QUEUE_PREFIX, queue),
      orphanKey(DEFAULT_QUEUE_PREFIX, queue, 'b'.repeat(64)),
      jobLockKey(DEFAULT_QUEUE_PREFIX, queue, 'c'.repeat(64)),
      heldKey(DEFAULT_QUEUE_PREFIX, queue, 'd'.repeat(64)),
    ];
    expect(ours).toEqual([
      '{perceive}:llava-d513a47cf322',
      `{perceive}:llava-d513a47cf322:orphan:${'b'.repeat(64)}`,
      `{perceive}:llava-d513a47cf322:${'c'.repeat(64)}:lock`,
      `{perceive}:llava-d513a47cf322:held:${'d'.repeat(64)}`,
    ]);
    // BullMQ's own keys of two queues (wait, active, meta, events, …) and a job's key.
    const bullmq = new QueueKeys(DEFAULT_QUEUE_PREFIX);
    const theirs = [...Object.values(bullmq.getKeys(queue)), ...Object.values(bullmq.getKeys('clip-00aa11bb22cc')), bullmq.toKey(queue, 'c'.repeat(64))];
    expect(theirs.length).toBeGreaterThan(30);
    const tags = new Set([...ours, ...theirs].map(clusterHashTag));
    expect([...tags]).toEqual(['perceive']);
  });

  it('a prefix without a tag spreads over slots (allowed: one Redis, not a Cluster)', () => {
    const keys = [orphanKey('perceive', 'q', 'x'), jobLockKey('perceive', 'q', 'y'), ...Object.values(new QueueKeys('perceive').getKeys('q'))];
    expect(new Set(keys.map(clusterHashTag)).size).toBe(keys.length);
    expect(prefixHasHashTag('perceive')).toBe(false);
  });

  it('queue.prefix takes at most one {hash tag}; the SCAN patterns match it literally', () => {
    for (const ok of ['{perceive}', 'perceive', 'team-{perceive}', '{t-1.x_y}', 'a{b}c'])
      expect(QueueSettingsSchema.safeParse({ prefix: ok }).success).toBe(true);
    for (const bad of ['{a}{b}', '{}', 'a b', 'a*', '{a', 'a}', '']) expect(QueueSettingsSchema.safeParse({ prefix: bad }).success).toBe(false);
    expect(queueMetaPattern('{perceive}')).toBe('{perceive}:*:meta');
    expect(prefixPattern('{perceive}')).toBe('{perceive}:*');
    expect(queueNameOfMetaKey('{perceive}', '{perceive}:llava-d513a47cf322:meta')).toBe('llava-d513a47cf322');
  });
});
