import type { Server } from 'node:http';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { SafeQueue as Queue } from '../execution/bullmq/safe-job.js';
import type { Command } from 'commander';
import express from 'express';
import { readEnvironment } from '../core/environment.js';
import { PerceiveError } from '../core/errors.js';
import { connectRedis, listQueueNames, redactUrl } from '../execution/bullmq/bundle-queue.js';

/** Serves Bull Board over every queue under `prefix`, on 127.0.0.1 only. Resolves once listening. */
export async function startDashboard(options: { redisUrl: string; prefix: string; port: number; refreshMs?: number }): Promise<{ server: Server; url: string; queues: string[]; close: () => Promise<void> }> {
  const redis = await connectRedis(options.redisUrl, { probe: true });
  const names = await listQueueNames(redis, options.prefix);
  const queues = names.map((n) => new Queue(n, { connection: redis, prefix: options.prefix }));
  const adapter = new ExpressAdapter();
  adapter.setBasePath('/');
  const board = createBullBoard({ queues: queues.map((q) => new BullMQAdapter(q, { readOnlyMode: false })), serverAdapter: adapter as unknown as Parameters<typeof createBullBoard>[0]['serverAdapter'] });
  // Queues a later run creates (a new model) appear without a restart.
  const refresh = setInterval(() => {
    void listQueueNames(redis, options.prefix)
      .then((now) => {
        for (const n of now) {
          if (names.includes(n)) continue;
          names.push(n);
          const q = new Queue(n, { connection: redis, prefix: options.prefix });
          queues.push(q);
          board.addQueue(new BullMQAdapter(q, { readOnlyMode: false }));
        }
      })
      .catch(() => {});
  }, options.refreshMs ?? 10_000);
  refresh.unref();
  const app = express();
  app.use('/', adapter.getRouter());
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(options.port, '127.0.0.1', () => resolve(s));
    s.once('error', (e: NodeJS.ErrnoException) =>
      reject(e.code === 'EADDRINUSE' ? new PerceiveError('port-in-use', `port ${options.port} on 127.0.0.1 is in use`, { hint: 'pick another with --port' }) : e),
    );
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  return {
    server,
    url: `http://127.0.0.1:${port}/`,
    queues: names,
    close: async () => {
      clearInterval(refresh);
      await new Promise<void>((r) => server.close(() => r()));
      await Promise.all(queues.map((q) => q.close()));
      redis.disconnect();
    },
  };
}

export function registerDashboard(program: Command): void {
  program
    .command('dashboard')
    .description("Bull Board over the project's queues (REDIS_URL), served on 127.0.0.1")
    .option('--port <n>', 'port on 127.0.0.1', (v) => Number.parseInt(v, 10), 3000)
    .option('--prefix <prefix>', 'queue prefix (the config\'s queue.prefix)', 'perceive')
    .action(async (opts: { port: number; prefix: string }) => {
      const env = readEnvironment();
      const d = await startDashboard({ redisUrl: env.redisUrl, prefix: opts.prefix, port: opts.port });
      process.stderr.write(`dashboard: ${d.url} (queues under "${opts.prefix}" on ${redactUrl(env.redisUrl)}: ${d.queues.join(', ') || 'none yet'}; new queues appear within 10 s)\nCtrl-C to stop\n`);
      await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
      await d.close();
    });
}
