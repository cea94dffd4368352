import type { Redis } from 'ioredis';
import { type CheckVerdict, verdict } from '../../core/check-verdict.js';

/**
 * Redis's `maxmemory-policy`, which BullMQ requires to be `noeviction`: under any other policy a
 * full Redis deletes keys, jobs among them, silently. Managed Redis services often refuse CONFIG
 * GET: then `undefined` (unknown), never an error.
 */
export async function readEvictionPolicy(redis: Redis): Promise<string | undefined> {
  try {
    const reply = (await redis.call('CONFIG', 'GET', 'maxmemory-policy')) as unknown;
    // RESP2: ['maxmemory-policy', 'noeviction']
    if (Array.isArray(reply) && typeof reply[1] === 'string') return reply[1];
    return undefined;
  } catch {
    return undefined;
  }
}

export function evictionPolicyVerdict(policy: string | undefined): CheckVerdict {
  const fix = 'set `maxmemory-policy noeviction` (redis.conf, or CONFIG SET maxmemory-policy noeviction): BullMQ needs it';
  if (policy === undefined)
    return verdict('warning', 'redis policy', 'maxmemory-policy unknown (CONFIG GET refused)', `check with your Redis provider; ${fix}`);
  if (policy === 'noeviction') return verdict('ok', 'redis policy', 'maxmemory-policy noeviction');
  return verdict('warning', 'redis policy', `maxmemory-policy ${policy}: a full Redis would evict queued jobs`, fix);
}
