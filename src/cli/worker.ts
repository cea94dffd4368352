import type { Command } from 'commander';

/** `perceive worker`: the command line of a worker process (src/execution/bullmq/worker-process.ts). */
export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description(
      "serve one model's queue: start its runner (llama-server or onnxruntime) and compute bundles from Redis (REDIS_URL), reading images under PERCEIVE_DATA_DIR",
    )
    .requiredOption('--config <file>', "experiment config (YAML); only its models and queue sections are used, with this host's model paths")
    .requiredOption('--model <name>', "which model of the config this worker serves (the queue's name)")
    .option(
      '--concurrency <n>',
      "bundles at once per server (default: the model's slots: llama slots, encoder batch size; llama servers: N runs N times as many)",
      (v) => Number.parseInt(v, 10),
    )
    .option('--log <file>', 'append pino JSON lines here (default: perceive-worker.<model>.log.jsonl in the current folder)')
    .option('--quiet', 'no console lines')
    .action(async (opts: { config: string; model: string; concurrency?: number; log?: string; quiet?: boolean }) => {
      const { serveModelQueue } = await import('../execution/bullmq/worker-process.js');
      await serveModelQueue(opts);
    });
}
