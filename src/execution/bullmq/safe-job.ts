/* eslint-disable @typescript-eslint/no-explicit-any -- BullMQ's own generic defaults */
import { Job, type JobJson, Queue, type QueueOptions, Worker, type WorkerOptions, type Processor } from 'bullmq';

type JobQueue = Parameters<typeof Job.fromJSON>[0];

/**
 * Job data is untrusted input (a shared Redis is shared with other people and programs). BullMQ
 * parses a job's data with JSON.parse before anything of ours runs: data that is not JSON threw
 * there, so the job stayed `active` forever and Bull Board answered HTTP 500 for its queue. A
 * SafeJob whose data does not parse carries `{ unreadable: "<reason>" }` instead, so the worker
 * fails it by id with a named reason, the drain removes it and the dashboard lists it.
 */
export class SafeJob extends Job {
  // biome-ignore lint/suspicious/noExplicitAny: the signature BullMQ's Job.fromJSON declares (its defaults are any)
  static override fromJSON<T = any, R = any, N extends string = string>(queue: JobQueue, json: JobJson, jobId?: string): Job<T, R, N> {
    try {
      return Job.fromJSON<T, R, N>(queue, json, jobId) as Job<T, R, N>;
    } catch (error) {
      const reason = `data is not valid JSON (${(error as Error).message}): ${String(json.data ?? '').slice(0, 80)}`;
      return Job.fromJSON<T, R, N>(queue, { ...json, data: JSON.stringify({ unreadable: reason }) }, jobId) as Job<T, R, N>;
    }
  }
}

/** A Queue whose jobs are SafeJobs (getJob, getJobs and Bull Board never throw on bad data). */
export class SafeQueue extends Queue {
  constructor(name: string, opts?: QueueOptions) {
    super(name, opts);
  }

  override get Job(): typeof Job {
    return SafeJob as unknown as typeof Job;
  }
}

/** A Worker whose jobs are SafeJobs: a job with unreadable data reaches the processor and fails there. */
export class SafeWorker extends Worker {
  constructor(name: string, processor: Processor, opts?: WorkerOptions) {
    super(name, processor, opts);
  }

  override get Job(): typeof Job {
    return SafeJob as unknown as typeof Job;
  }
}

/** The reason a job's data could not be read, or undefined. */
export function unreadableJobData(data: unknown): string | undefined {
  const r = data && typeof data === 'object' ? (data as { unreadable?: unknown }).unreadable : undefined;
  return typeof r === 'string' ? r : undefined;
}
