#!/usr/bin/env node
import { Command } from 'commander';
import { reportError } from './console-output.js';

const program = new Command('perceive')
  .description('Run vision-language benchmark items through a generative MLLM (llama-server) and a CLIP encoder (onnxruntime), side by side')
  .showHelpAfterError();

/**
 * Each command's module, loaded only when that command runs (a worker never loads the report's
 * vega or the dashboard's express: `perceive worker` starts in about half the time). Help, an
 * unknown command or no command load them all, in this order, so the listing is complete.
 */
const commands: Record<string, () => Promise<(p: Command) => void>> = {
  setup: async () => (await import('./setup.js')).registerSetup,
  fixtures: async () => (await import('./fixtures.js')).registerFixtures,
  run: async () => (await import('./run.js')).registerRun,
  worker: async () => (await import('./worker.js')).registerWorker,
  dashboard: async () => (await import('./dashboard.js')).registerDashboard,
  report: async () => (await import('./report.js')).registerReport,
  demo: async () => (await import('./demo.js')).registerDemo,
  metrics: async () => (await import('./metrics.js')).registerMetrics,
  data: async () => (await import('./data-check.js')).registerDataCheck,
  doctor: async () => (await import('./doctor.js')).registerDoctor,
};

try {
  const name = process.argv[2];
  const wanted = name !== undefined && Object.hasOwn(commands, name) ? [name] : Object.keys(commands);
  for (const register of await Promise.all(wanted.map((n) => commands[n]!()))) register(program);
  await program.parseAsync(process.argv);
} catch (error) {
  process.exitCode = reportError(error);
  // A fatal error ends the process even when a handle (a Redis connection, a child) would keep it alive.
  setTimeout(() => process.exit(), 3000).unref();
}
