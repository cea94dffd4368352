import type { QueueSettings } from '../config/experiment.js';

/**
 * How a bundle whose model failed transiently (a crashed, hung or overloaded server) is tried
 * again: the same policy in the in-process mode and on BullMQ (registered there as the custom
 * backoff strategy `perceive`). `attempts` counts the first try; the wait before try n+1 is
 * backoff_ms · 2^(n−1) (BullMQ's own exponential formula, src/classes/backoffs.ts).
 */
export interface RetryPolicy {
  attempts: number;
  backoffMs: number;
}

/** BullMQ's name for the policy (job option `backoff.type`, worker setting `backoffStrategy`). */
export const BACKOFF_STRATEGY = 'perceive';

export function retryPolicy(settings: Pick<QueueSettings, 'attempts' | 'backoff_ms'>): RetryPolicy {
  return { attempts: settings.attempts, backoffMs: settings.backoff_ms };
}

/** Whether a bundle that failed transiently on try `attemptsMade` (1-based) gets another. */
export function shouldRetry(policy: RetryPolicy, attemptsMade: number): boolean {
  return attemptsMade < policy.attempts;
}

/** Milliseconds to wait after try `attemptsMade` (1-based) before the next. */
export function backoffDelay(policy: RetryPolicy, attemptsMade: number): number {
  return Math.round(policy.backoffMs * 2 ** (attemptsMade - 1));
}
