import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { writeCompareReport } from '../report/compare-report.js';
import { writeRunReport } from '../report/run-report.js';
import { RunDirectory } from '../store/run-directory.js';
import { printSummary } from './run.js';

export function registerReport(program: Command): void {
  program
    .command('report')
    .description(
      "rebuild a run's report (report.md, report.html, tables/*.csv, summary.json) from its results — reads only the run directory, never a model; " +
        'with --compare RUN_A RUN_B, the same tables for two runs side by side (metrics, per-item 2x2, and where both runs have them the headline, CircularEval and position bias)',
    )
    .argument('[run-dir]', 'results/<run-id>')
    .option('--compare <runs...>', 'two run directories to compare (A then B)')
    .option('--out <dir>', 'where --compare writes (default: next to RUN_A, compare-<A>-vs-<B>)')
    .action(async (dir: string | undefined, opts: { compare?: string[]; out?: string }) => {
      if (opts.compare) {
        if (opts.compare.length !== 2) throw new InvalidArgumentError('--compare takes exactly two run directories');
        const { dir: out, model } = await writeCompareReport(opts.compare[0]!, opts.compare[1]!, opts.out);
        process.stdout.write(
          `compared ${model.a.runId} (A) with ${model.b.runId} (B): ${model.rows.length} metric rows; views both have: ${model.sections.map((s) => s.id).join(', ') || 'none'}\nreport: ${out}/report.md\n        ${out}/report.html\n`,
        );
        return;
      }
      if (!dir) throw new InvalidArgumentError('give a run directory, or --compare RUN_A RUN_B');
      const run = RunDirectory.open(dir);
      const { summary, reportFile, htmlFile } = await writeRunReport(run);
      printSummary(summary);
      process.stdout.write(`report: ${reportFile}\n        ${htmlFile}\n`);
    });
}
