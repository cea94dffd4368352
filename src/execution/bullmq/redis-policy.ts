import type { Redis } from 'ioredis';
import { errorMessage } from '../../core/errors.js';

/**
 * Redis's eviction policy, as BullMQ needs it: `noeviction`. Under any other policy a Redis that
 * reaches `maxmemory` deletes keys to make room, and a deleted job, lock or queue list is a bundle
 * lost or computed twice. Used at start-up by the run and by workers on other hosts (one warning
 * line), and by `perceive doctor`.
 */
export interface EvictionPolicyCheck {
  /** `maxmemory-policy` as Redis reports it; undefined when Redis would not say (INFO refused). */
  policy: string | undefined;
  ok: boolean;
  /** One line naming the setting and the fix, when the policy is not `noeviction`. */
  warning?: string;
  /** Why the policy could not be read, when it could not. */
  unreadable?: string;
}

/** The policy BullMQ requires. */
export const REQUIRED_EVICTION_POLICY = 'noeviction';

/** The warning for a policy, or undefined when it is `noeviction`. */
export function evictionPolicyWarning(policy: string): string | undefined {
  if (policy === REQUIRED_EVICTION_POLICY) return undefined;
  return (
    `warning: Redis maxmemory-policy is ${policy}, not noeviction (BullMQ's requirement): when Redis reaches maxmemory it evicts queue keys ` +
    '(jobs, locks), so bundles can be lost or computed twice; fix: redis-cli CONFIG SET maxmemory-policy noeviction ' +
    "(and maxmemory-policy noeviction in redis.conf, or your provider's parameter group)"
  );
}

/** `maxmemory_policy` from the text of `INFO memory`. */
export function parseEvictionPolicy(info: string): string | undefined {
  const line = info.split(/\r?\n/).find((l) => l.startsWith('maxmemory_policy:'));
  return line ? line.slice('maxmemory_policy:'.length).trim() : undefined;
}

/** Reads Redis's eviction policy (`INFO memory`, which ACL users and managed Redis usually allow, unlike CONFIG GET). */
export async function checkEvictionPolicy(redis: Redis): Promise<EvictionPolicyCheck> {
  let policy: string | undefined;
  try {
    policy = parseEvictionPolicy(await redis.info('memory'));
  } catch (error) {
    return { policy: undefined, ok: true, unreadable: errorMessage(error) };
  }
  if (policy === undefined) return { policy, ok: true, unreadable: 'INFO memory has no maxmemory_policy line' };
  const warning = evictionPolicyWarning(policy);
  return warning ? { policy, ok: false, warning } : { policy, ok: true };
}

let bullmqWarningMuted = false;

/**
 * BullMQ prints `IMPORTANT! Eviction policy is …` on the console once per connection (a run
 * opens several); once perceive has said it in its own line (console and log), those repeats are
 * dropped. Every other console warning passes through.
 */
export function muteBullmqEvictionWarning(): void {
  if (bullmqWarningMuted) return;
  bullmqWarningMuted = true;
  const warn = console.warn.bind(console);
  console.warn = (...args: unknown[]): void => {
    if (typeof args[0] === 'string' && args[0].startsWith('IMPORTANT! Eviction policy is')) return;
    warn(...args);
  };
}
