import type { Command } from 'commander';
import { writeRunReport } from '../report/run-report.js';
import { RunDirectory } from '../store/run-directory.js';
import { printSummary } from './run.js';

export function registerReport(program: Command): void {
  program
    .command('report')
    .description('rebuild summary.json and report.md of a run from its results (reads only the run directory, never a model)')
    .argument('<run-dir>', 'results/<run-id>')
    .action(async (dir: string) => {
      const run = RunDirectory.open(dir);
      const { summary, reportFile, htmlFile } = await writeRunReport(run);
      printSummary(summary);
      process.stdout.write(`report: ${reportFile}\n        ${htmlFile}\n`);
    });
}
