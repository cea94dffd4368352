import { type CheckVerdict, verdict } from '../core/check-verdict.js';

/**
 * Cores against a model's compute threads: threads × servers (llama's `servers`, processes per
 * worker) × workers. Several processes of one model whose threads exceed the cores make
 * llama.cpp's and onnxruntime's spinning threads wait on each other: on 2 cores, 2 llama workers of
 * 2 threads each ran the demo about 5x slower than one. One process with more threads than cores is
 * oversubscribed the same way. Used by `perceive run` (a note) and `perceive doctor`.
 */
export function coreBudgetVerdict(args: { model: string; workers: number; servers?: number; threads: number; cores: number }): CheckVerdict {
  const { model, workers, threads, cores } = args;
  const servers = args.servers ?? 1;
  const subject = `cores ${model}`;
  const processes = workers * servers;
  const total = processes * threads;
  const each = servers > 1 ? ` × ${servers} servers` : '';
  if (processes > 1 && total > cores) {
    return verdict(
      'warning',
      subject,
      `${workers} local worker${workers === 1 ? '' : 's'}${each} for ${model} run ${total} compute threads on ${cores} cores; oversubscribed, they slow down sharply`,
      `set models.${model}.threads to ${Math.max(1, Math.floor(cores / processes))}, or use fewer ${servers > 1 ? `models.${model}.servers or ` : ''}--workers`,
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
  return verdict('ok', subject, `${workers} local worker${workers === 1 ? '' : 's'}${each} × ${threads} thread${threads === 1 ? '' : 's'} on ${cores} cores`);
}
