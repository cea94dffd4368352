import type { Command } from 'commander';
import { loadExperimentConfig, type LoadedConfig } from '../config/experiment.js';
import { readEnvironment } from '../config/environment.js';
import { runExperiment } from '../queue/experiment-run.js';
import { writeRunReport } from '../report/run-report.js';
import type { RunSummary } from '../analysis/summary.js';
import { findLlamaBinaries } from '../runners/llama/llama-build.js';
import { formatDuration, ProgressLine } from './console-output.js';
import { setupLlama } from './setup.js';

export interface RunCommandOptions {
  runId?: string;
  quiet?: boolean;
  build?: boolean;
}

/** Runs a loaded config end to end and writes the report. Shared by `run` and `demo`. */
export async function runConfig(loaded: LoadedConfig, opts: RunCommandOptions): Promise<{ dir: string; summary: RunSummary; wallMs: number; reportFile: string }> {
  const env = readEnvironment();
  const needsLlama = Object.values(loaded.config.models).some((m) => m.kind === 'llama') && !env.llamaServerUrl;
  let binaries = needsLlama ? findLlamaBinaries(env) : undefined;
  if (needsLlama && !binaries && opts.build !== false) binaries = await setupLlama({ ...(opts.quiet === undefined ? {} : { quiet: opts.quiet }) });
  const progress = new ProgressLine(opts.quiet);
  process.stderr.write('executing in-process (no queue)\n');
  const result = await runExperiment(loaded, env, binaries, {
    ...(opts.runId ? { runId: opts.runId } : {}),
    onMessage: (line) => {
      if (!opts.quiet) process.stderr.write(`${line}\n`);
    },
    onProgress: (p) => {
      const rate = p.done / Math.max(p.elapsedMs / 1000, 1e-3);
      const eta = rate > 0 ? ((p.total - p.done) / rate) * 1000 : 0;
      progress.update(
        `[${p.arm}] ${p.done}/${p.total} samples, ${p.failed} failed, ${rate.toFixed(1)}/s, ETA ${formatDuration(eta)}`,
        p.done === p.total,
      );
    },
  });
  progress.done();
  const { summary, reportFile } = await writeRunReport(result.run, { wallMs: result.wallMs });
  return { dir: result.run.dir, summary, wallMs: result.wallMs, reportFile };
}

export function printSummary(summary: RunSummary): void {
  const pct = (v: number | null | undefined): string => (v === null || v === undefined ? '  –  ' : `${(100 * v).toFixed(1).padStart(5)}`);
  process.stdout.write('benchmark / arm                          indiv   pair    set  (failed)\n');
  for (const a of summary.arms) {
    const h = (n: string): number | null | undefined => a.metrics.headline.find((m) => m.name === n)?.value;
    process.stdout.write(
      `${`${a.benchmark} / ${a.arm}`.padEnd(40)} ${pct(h('individual'))}  ${pct(h('pair'))}  ${pct(h('set'))}  (${a.failed})\n`,
    );
  }
  for (const c of summary.comparisons) {
    process.stdout.write(
      `${c.benchmark}: ${c.arm} vs ${c.baseline}: both right ${c.both}, only ${c.arm} ${c.onlyArm}, only ${c.baseline} ${c.onlyBaseline}, neither ${c.neither}\n`,
    );
  }
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run an experiment config (YAML): load the benchmarks, run every arm on every item, write results/<run-id>/ and the report')
    .requiredOption('--config <file>', 'experiment config (YAML)')
    .option('--run-id <id>', 'name of the run directory (default: <name>-<timestamp>)')
    .option('--no-build', 'fail instead of building llama-server when it is missing')
    .option('--quiet', 'plain, sparse output')
    .action(async (opts: { config: string; runId?: string; build: boolean; quiet?: boolean }) => {
      const loaded = loadExperimentConfig(opts.config);
      const r = await runConfig(loaded, opts);
      printSummary(r.summary);
      process.stdout.write(`\nrun finished in ${formatDuration(r.wallMs)}: ${r.dir}\nreport: ${r.reportFile}\n`);
    });
}
