import { type Command, Option } from 'commander';
import { loadExperimentConfig } from '../config/experiment.js';
import type { CheckVerdict } from '../core/check-verdict.js';
import { readEnvironment } from '../core/environment.js';
import { PerceiveError } from '../core/errors.js';
import { redactCredentials } from '../core/redact-url.js';
import type { QueueMode } from '../run/run-experiment.js';

/** One doctor line: `ok      subject  message`, and `→ fix` under a warning or an error. */
export function formatVerdict(v: CheckVerdict): string {
  const line = `${v.status.padEnd(7)} ${v.subject.padEnd(26)} ${v.message}`;
  return redactCredentials(v.fix && v.status !== 'ok' ? `${line}\n${' '.repeat(35)}→ ${v.fix}` : line);
}

/** `perceive doctor`: whether a config's run will work on this host; exit code 1 when any line is an error. */
export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description(
      'check before a long run whether it will work: Redis and its eviction policy, llama-server and each model starting, ' +
        'every model and data file with its checksum status, disk space, cores against threads and workers; exit code 1 on any error',
    )
    .requiredOption('--config <file>', 'experiment config (YAML)')
    .addOption(
      new Option('--queue <mode>', 'as perceive run: auto, redis (the queue is required) or inline').choices(['auto', 'redis', 'inline']).default('auto'),
    )
    .option('--workers <n>', 'local workers per model, as perceive run (0: workers on other hosts)', (v) => Number.parseInt(v, 10), 1)
    .option('--start-timeout <seconds>', 'how long each model may take to start', (v) => Number.parseInt(v, 10), 300)
    .option('--hash', 'hash every model file now, however large (default: up to 256 MB, or already hashed)')
    .option('--no-start', 'do not start the models (the quick checks only)')
    .action(async (opts: { config: string; queue: QueueMode; workers: number; startTimeout: number; hash?: boolean; start: boolean }) => {
      if (!Number.isInteger(opts.workers) || opts.workers < 0)
        throw new PerceiveError('bad-usage', `--workers must be a whole number ≥ 0, got ${opts.workers}`);
      if (!Number.isInteger(opts.startTimeout) || opts.startTimeout <= 0)
        throw new PerceiveError('bad-usage', `--start-timeout must be a whole number of seconds > 0, got ${opts.startTimeout}`);
      const loaded = loadExperimentConfig(opts.config);
      const { diagnose } = await import('../run/doctor.js');
      const counts = { ok: 0, warning: 0, error: 0 };
      for await (const v of diagnose(loaded, readEnvironment(), {
        queue: opts.queue,
        workers: opts.workers,
        startTimeoutMs: opts.startTimeout * 1000,
        hashAll: Boolean(opts.hash),
        noStart: !opts.start,
      })) {
        counts[v.status]++;
        process.stdout.write(`${formatVerdict(v)}\n`);
      }
      process.stdout.write(
        `\n${counts.error === 0 ? 'ready' : 'not ready'}: ${counts.ok} ok, ${counts.warning} warning${counts.warning === 1 ? '' : 's'}, ${counts.error} error${counts.error === 1 ? '' : 's'}\n`,
      );
      process.exitCode = counts.error === 0 ? 0 : 1;
    });
}
