import type { Reporter, RunnerTask, RunnerTestFile } from 'vitest';

/**
 * Prints one plain closing line, "tests: N passed, N failed, N skipped", after vitest's own
 * output, so CI logs state the counts in a form any reader understands. A test file that fails
 * to load counts as one failure.
 */
export default class SummaryReporter implements Reporter {
  onFinished(files: RunnerTestFile[] = []): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    const walk = (task: RunnerTask): number => {
      if (task.type === 'test') {
        const state = task.result?.state;
        if (state === 'pass') passed += 1;
        else if (state === 'fail') failed += 1;
        else skipped += 1;
        return state === 'fail' ? 1 : 0;
      }
      return task.tasks.reduce((n, t) => n + walk(t), 0);
    };
    for (const file of files) {
      const failedInside = walk(file);
      if (file.result?.state === 'fail' && failedInside === 0) failed += 1;
    }
    process.stdout.write(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
