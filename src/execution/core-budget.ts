import { type CheckVerdict, verdict } from '../core/check-verdict.js';

/**
 * Cores against a model's compute threads. Several workers of one model whose threads exceed the
 * cores make llama.cpp's and onnxruntime's spinning threads wait on each other: on 2 cores, 2 llama
 * workers of 2 threads each ran the demo about 5x slower than one. One worker with more threads
 * than cores is oversubscribed the same way. Used by `perceive run` (a note) and `perceive doctor`.
 */
export function coreBudgetVerdict(args: { model: string; workers: number; threads: number; cores: number }): CheckVerdict {
  const { model, workers, threads, cores } = args;
  const subject = `cores ${model}`;
  const total = workers * threads;
  if (workers > 1 && total > cores) {
    return verdict(
      'warning',
      subject,
      `${workers} local workers for ${model} run ${total} compute threads on ${cores} cores; oversubscribed, they slow down sharply`,
      `set models.${model}.threads to ${Math.max(1, Math.floor(cores / workers))}, or use fewer --workers`,
    );
  }
  if (threads > cores) {
    return verdict(
      'warning',
      subject,
      `${model} runs ${threads} compute threads on ${cores} cores; oversubscribed, it slows down sharply`,
      `set models.${model}.threads (or PERCEIVE_THREADS) to ${cores} or fewer`,
    );
  }
  return verdict('ok', subject, `${workers} local worker${workers === 1 ? '' : 's'} × ${threads} thread${threads === 1 ? '' : 's'} on ${cores} cores`);
}
