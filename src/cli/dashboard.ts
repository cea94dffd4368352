import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { SafeQueue as Queue } from '../execution/bullmq/safe-job.js';
import type { Command } from 'commander';
import express from 'express';
import { readEnvironment } from '../core/environment.js';
import { PerceiveError } from '../core/errors.js';
import { DEFAULT_QUEUE_PREFIX } from '../config/experiment.js';
import { connectRedis, listQueueNames, redactUrl } from '../execution/bullmq/bundle-queue.js';

export interface DashboardOptions {
  redisUrl: string;
  prefix: string;
  port: number;
  refreshMs?: number;
  /** Interface to listen on (default 127.0.0.1); any other requires `auth`. */
  host?: string;
  /** `user:password` for HTTP basic auth (PERCEIVE_DASHBOARD_AUTH); required when host is not 127.0.0.1. */
  auth?: string | undefined;
  /** Retry, remove, promote and clean jobs from the board (default: read-only). */
  write?: boolean;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

/**
 * Serves Bull Board over every queue under `prefix`. On 127.0.0.1 by default; on another
 * interface only with basic auth. Requests whose Host header names another host are refused (a
 * DNS-rebinding page cannot reach it); read-only unless `write`. Resolves once listening.
 */
export async function startDashboard(options: DashboardOptions): Promise<{ server: Server; url: string; queues: string[]; close: () => Promise<void> }> {
  const host = options.host ?? '127.0.0.1';
  if (!LOOPBACK.has(host) && !options.auth) {
    throw new PerceiveError('bad-option', `the dashboard on ${host} answers the network: it needs basic auth`, {
      hint: 'set PERCEIVE_DASHBOARD_AUTH=user:password (or serve on 127.0.0.1)',
    });
  }
  if (options.auth !== undefined && !/^[^:]+:.+$/.test(options.auth)) {
    throw new PerceiveError('bad-option', 'PERCEIVE_DASHBOARD_AUTH must be user:password');
  }
  const readOnlyMode = !options.write;
  const redis = await connectRedis(options.redisUrl, { probe: true });
  const names = await listQueueNames(redis, options.prefix);
  const queues = names.map((n) => new Queue(n, { connection: redis, prefix: options.prefix }));
  const adapter = new ExpressAdapter();
  adapter.setBasePath('/');
  const board = createBullBoard({
    queues: queues.map((q) => new BullMQAdapter(q, { readOnlyMode })),
    serverAdapter: adapter as unknown as Parameters<typeof createBullBoard>[0]['serverAdapter'],
  });
  // Queues a later run creates (a new model) appear without a restart.
  const refresh = setInterval(() => {
    void listQueueNames(redis, options.prefix)
      .then((now) => {
        for (const n of now) {
          if (names.includes(n)) continue;
          names.push(n);
          const q = new Queue(n, { connection: redis, prefix: options.prefix });
          queues.push(q);
          board.addQueue(new BullMQAdapter(q, { readOnlyMode }));
        }
      })
      .catch(() => {});
  }, options.refreshMs ?? 10_000);
  refresh.unref();
  const app = express();
  let port = options.port;
  const refuse = (res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void => {
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
    res.end(`perceive dashboard: ${text}\n`);
  };
  const guard = (req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    // Host header: only the names this server is reached by (no DNS rebinding).
    const hostHeader = (req.headers.host ?? '').toLowerCase();
    const allowed = new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, `${host.toLowerCase()}:${port}`]);
    if (!allowed.has(hostHeader)) {
      refuse(res, 421, `Host ${JSON.stringify(req.headers.host ?? '')} is not this server`);
      return;
    }
    if (options.auth) {
      const given = Buffer.from(req.headers.authorization ?? '');
      const want = Buffer.from(`Basic ${Buffer.from(options.auth).toString('base64')}`);
      if (given.length !== want.length || !timingSafeEqual(given, want)) {
        refuse(res, 401, 'authentication required', { 'www-authenticate': 'Basic realm="perceive"' });
        return;
      }
    }
    // Read-only: Bull Board's buttons are hidden, and its write endpoints refused here too.
    if (readOnlyMode && req.method !== 'GET' && req.method !== 'HEAD') {
      refuse(res, 403, 'read-only (start it with --write to change jobs)');
      return;
    }
    next();
  };
  app.use('/', guard);
  app.use('/', adapter.getRouter());
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(options.port, host, () => resolve(s));
    s.once('error', (e: NodeJS.ErrnoException) =>
      reject(e.code === 'EADDRINUSE' ? new PerceiveError('port-in-use', `port ${options.port} on ${host} is in use`, { hint: 'pick another with --port' }) : e),
    );
  });
  const address = server.address();
  port = typeof address === 'object' && address ? address.port : options.port;
  return {
    server,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/`,
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
    .description("Bull Board over the project's queues (REDIS_URL), served on 127.0.0.1 (read-only unless --write)")
    .option('--port <n>', 'port', (v) => Number.parseInt(v, 10), 3000)
    .option('--host <host>', 'interface to listen on; other than 127.0.0.1 requires PERCEIVE_DASHBOARD_AUTH=user:password (basic auth)', '127.0.0.1')
    .option('--write', 'allow retrying, removing and cleaning jobs from the board')
    .option('--prefix <prefix>', "queue prefix (the config's queue.prefix)", DEFAULT_QUEUE_PREFIX)
    .action(async (opts: { port: number; prefix: string; host: string; write?: boolean }) => {
      const env = readEnvironment();
      const d = await startDashboard({
        redisUrl: env.redisUrl,
        prefix: opts.prefix,
        port: opts.port,
        host: opts.host,
        auth: env.dashboardAuth,
        write: Boolean(opts.write),
      });
      process.stderr.write(
        `dashboard: ${d.url}${opts.write ? '' : ' (read-only)'} (queues under "${opts.prefix}" on ${redactUrl(env.redisUrl)}: ${d.queues.join(', ') || 'none yet'}; new queues appear within 10 s)\nCtrl-C to stop\n`,
      );
      await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
      await d.close();
    });
}
