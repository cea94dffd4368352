import { Command } from 'commander';
import { reportError } from './console-output.js';
import { registerDataCheck } from './data-check.js';
import { registerDemo } from './demo.js';
import { registerFixtures } from './fixtures.js';
import { registerMetrics } from './metrics.js';
import { registerReport } from './report.js';
import { registerRun } from './run.js';
import { registerWorker } from './worker.js';
import { registerDashboard } from './dashboard.js';
import { registerSetup } from './setup.js';

const program = new Command('perceive')
  .description('Run vision-language benchmark items through a generative MLLM (llama-server) and a CLIP encoder (onnxruntime), side by side')
  .showHelpAfterError();

registerSetup(program);
registerFixtures(program);
registerRun(program);
registerWorker(program);
registerDashboard(program);
registerReport(program);
registerDemo(program);
registerMetrics(program);
registerDataCheck(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  process.exitCode = reportError(error);
}
