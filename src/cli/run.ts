import fs from 'node:fs';
import path from 'node:path';
import { type Command, Option } from 'commander';
import { loadExperimentConfig, type LoadedConfig } from '../config/experiment.js';
import { readEnvironment } from '../core/environment.js';
import { type QueueMode, runExperiment } from '../run/run-experiment.js';
import { PerceiveError } from '../core/errors.js';
import type { RunSummary } from '../analysis/summary.js';
import { findHostTools } from '../models/host-tools.js';
import { formatDuration } from './console-output.js';
import { QueueProgressDisplay } from './queue-progress.js';
import { setupTools } from './setup.js';
import { redactCredentials } from '../core/redact-url.js';

export interface RunCommandOptions {
  runId?: string;
  quiet?: boolean;
  build?: boolean;
  resume?: boolean;
  queue?: QueueMode;
  workers?: number;
}

/**
 * Runs a loaded config end to end and writes the report. Shared by `run` and `demo`. Ctrl-C (or
 * SIGTERM) stops cleanly: workers put their bundles back, what finished is stored, and the run
 * can be resumed; a second Ctrl-C exits at once. Stopped by SIGTERM (a container orchestrator's
 * stop), the drained run exits 0; by Ctrl-C, with the run-stopped error (exit 1).
 */
export async function runConfig(
  loaded: LoadedConfig,
  opts: RunCommandOptions,
): Promise<{ dir: string; summary: RunSummary; wallMs: number; reportFile: string; runId: string }> {
  // The report's modules (vega among them) take a second or two to load: loaded while the run
  // starts its workers rather than before (the worker processes start meanwhile).
  const reportModule = import('../report/run-report.js');
  reportModule.catch(() => {}); // awaited below; a run that fails first must not leave it unhandled
  const env = readEnvironment();
  const kinds = Object.values(loaded.config.models).map((m) => m.kind);
  const tools = opts.build === false ? findHostTools(kinds, env) : await setupTools(kinds, { ...(opts.quiet === undefined ? {} : { quiet: opts.quiet }) });
  const progress = new QueueProgressDisplay(opts.quiet);
  const abort = new AbortController();
  let stopSignal: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (abort.signal.aborted) process.exit(130);
    stopSignal = signal;
    process.stderr.write('\nstopping: workers finish their current task and put their bundles back (Ctrl-C again to exit at once)\n');
    abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const result = await runExperiment(loaded, env, tools, {
      ...(opts.runId ? { runId: opts.runId } : {}),
      ...(opts.resume ? { resume: true } : {}),
      ...(opts.queue ? { queue: opts.queue } : {}),
      ...(opts.workers !== undefined ? { workers: opts.workers } : {}),
      signal: abort.signal,
      onMessage: (line) => process.stderr.write(`${redactCredentials(line)}\n`),
      onProgress: (p) => progress.update(p),
    });
    if (result.stopped && stopSignal === 'SIGTERM') {
      // A container orchestrator's stop: a graceful drain is success (exit 0), not an error.
      process.stderr.write(
        `perceive: run stopped (SIGTERM): what finished is stored (${result.computed} tasks computed this time); the bundles in flight went back to the queue\n` +
          `  hint: resume with: perceive run --resume ${result.run.dir}\n`,
      );
      process.exit(0);
    }
    if (result.stopped) {
      throw new PerceiveError('run-stopped', `run stopped; what finished is stored (${result.computed} tasks computed this time)`, {
        hint: `resume with: perceive run --resume ${result.run.dir}`,
      });
    }
    const { writeRunReport } = await reportModule;
    const { summary, reportFile } = await writeRunReport(result.run, { wallMs: result.wallMs });
    return { dir: result.run.dir, summary, wallMs: result.wallMs, reportFile, runId: result.run.runId };
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** The config of an existing run (`--resume RUN_ID` or a run folder): the file its manifest names. */
export function resumeTarget(idOrDir: string, configFile: string | undefined): { loaded: LoadedConfig; runId: string } {
  if (configFile) return { loaded: loadExperimentConfig(configFile), runId: path.basename(idOrDir) };
  const dir = fs.existsSync(path.join(idOrDir, 'manifest.json')) ? idOrDir : path.join('results', idOrDir);
  const manifestFile = path.join(dir, 'manifest.json');
  if (!fs.existsSync(manifestFile)) {
    throw new PerceiveError('no-such-run', `cannot resume ${idOrDir}: no ${manifestFile}`, { hint: 'give the run folder, or --config FILE with the run id' });
  }
  const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as { config_file?: string; run_id?: string };
  if (!manifest.config_file) throw new PerceiveError('no-such-run', `${manifestFile} names no config_file`);
  const loaded = loadExperimentConfig(manifest.config_file);
  if (path.resolve(loaded.config.output) !== path.resolve(path.dirname(dir))) loaded.config.output = path.resolve(path.dirname(dir));
  return { loaded, runId: manifest.run_id ?? path.basename(dir) };
}

/** The console summary: every headline metric of each benchmark × arm, by name, and the 2x2s. */
export function printSummary(summary: RunSummary): void {
  const pct = (v: number | null | undefined): string => (v === null || v === undefined ? '–' : (100 * v).toFixed(1));
  let benchmark = '';
  for (const a of summary.arms) {
    if (a.benchmark !== benchmark) {
      benchmark = a.benchmark;
      process.stdout.write(`${benchmark} (${a.metrics.convention})\n`);
    }
    const figures = a.metrics.headline.map((h) => `${h.name} ${pct(h.value)}`).join(', ');
    process.stdout.write(
      `  ${a.arm.padEnd(26)} ${figures || a.metrics.convention}${a.failed ? `  (${a.failed} failed)` : ''}${a.unparseable ? `  (${a.unparseable} unparseable)` : ''}\n`,
    );
  }
  for (const c of summary.comparisons) {
    process.stdout.write(
      `${c.benchmark}: ${c.arm} vs ${c.baseline}: both right ${c.both}, only ${c.arm} ${c.onlyArm}, only ${c.baseline} ${c.onlyBaseline}, neither ${c.neither} (McNemar p ${c.mcnemarP.toPrecision(2)})\n`,
    );
  }
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description(
      'run an experiment config (YAML): plan every item × arm, compute what the store lacks (on the BullMQ queue when Redis answers, else in-process), write results/<run-id>/ and the report',
    )
    .option('--config <file>', 'experiment config (YAML)')
    .option('--run-id <id>', 'name of the run directory (default: <name>-<timestamp>)')
    .option('--resume <run>', 'finish an earlier run (its id under results/, or its folder): only what is missing is computed')
    .addOption(
      new Option('--queue <mode>', 'auto: the queue when Redis answers, else in-process; redis: the queue or an error; inline: in-process')
        .choices(['auto', 'redis', 'inline'])
        .default('auto'),
    )
    .option('--workers <n>', 'local workers per model in queue mode (0 when workers on other hosts serve the queues)', (v) => Number.parseInt(v, 10), 1)
    .option('--no-build', 'fail instead of building llama-server when it is missing')
    .option('--quiet', 'plain, sparse output')
    .action(async (opts: { config?: string; runId?: string; resume?: string; queue: QueueMode; workers: number; build: boolean; quiet?: boolean }) => {
      let loaded: LoadedConfig;
      let runId = opts.runId;
      if (opts.resume) {
        const target = resumeTarget(opts.resume, opts.config);
        loaded = target.loaded;
        runId = target.runId;
      } else if (opts.config) loaded = loadExperimentConfig(opts.config);
      else throw new PerceiveError('bad-usage', 'perceive run needs --config FILE (or --resume RUN_ID)');
      if (!Number.isInteger(opts.workers) || opts.workers < 0)
        throw new PerceiveError('bad-usage', `--workers must be a whole number ≥ 0, got ${opts.workers}`);
      const r = await runConfig(loaded, { ...opts, ...(runId ? { runId } : {}), resume: Boolean(opts.resume) });
      printSummary(r.summary);
      process.stdout.write(`\nrun finished in ${formatDuration(r.wallMs)}: ${r.dir}\nreport: ${r.reportFile}\n`);
    });
}
