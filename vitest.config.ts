import { defineConfig } from 'vitest/config';

// Model-dependent tests (test/integration) start real llama-server and onnxruntime
// processes; on a 2-core machine they run one file at a time.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    fileParallelism: false,
    pool: 'forks',
    reporters: ['default', './test/summary-reporter.ts'],
  },
});
