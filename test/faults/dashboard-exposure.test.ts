import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { startDashboard } from '../../src/cli/dashboard.js';
import { readEnvironment } from '../../src/core/environment.js';
import { connectRedis, deletePrefixKeys, openQueue } from '../../src/execution/bullmq/bundle-queue.js';
import { uniquePrefix } from '../support/queue-harness.js';

function request(port: number, o: { path?: string; method?: string; host?: string; auth?: string }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { host: o.host ?? `127.0.0.1:${port}` };
    if (o.auth) headers.authorization = `Basic ${Buffer.from(o.auth).toString('base64')}`;
    const req = http.request({ host: '127.0.0.1', port, path: o.path ?? '/', method: o.method ?? 'GET', headers }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the dashboard (issue 14.6, 14.7), on the real Redis', () => {
  it('checks the Host header, is read-only unless --write, needs basic auth off 127.0.0.1, and lists a queue holding a non-JSON job', async () => {
    const redisUrl = readEnvironment().redisUrl;
    const redis = await connectRedis(redisUrl, { probe: true });
    const prefix = uniquePrefix('f14b-dash');
    const queue = openQueue('m-aaaaaaaaaaaa', { prefix } as Parameters<typeof openQueue>[1], redis);
    await queue.add('ok', { v: 1 }, { jobId: 'ok-1' });
    await queue.add('hostile', { v: 1 }, { jobId: 'bad-1' });
    await redis.hset(`${prefix}:m-aaaaaaaaaaaa:bad-1`, 'data', 'not json at all');

    const d = await startDashboard({ redisUrl, prefix, port: 0 });
    const port = Number(new URL(d.url).port);
    const page = await request(port, {});
    const api = await request(port, { path: '/api/queues?activeQueue=m-aaaaaaaaaaaa&status=waiting&page=1&jobsPerPage=10' });
    const rebound = await request(port, { host: 'evil.example:80' });
    const write = await request(port, { path: '/api/queues/m-aaaaaaaaaaaa/clean/waiting', method: 'PUT' });
    await d.close();
    expect(page.status).toBe(200);
    expect(api.status).toBe(200); // before: 500 for a queue holding a job whose data is not JSON
    expect(api.body).toContain('data is not valid JSON');
    expect(rebound.status).toBe(421);
    expect(write.status).toBe(403);

    await expect(startDashboard({ redisUrl, prefix, port: 0, host: '0.0.0.0' })).rejects.toMatchObject({ code: 'bad-option' });
    const open = await startDashboard({ redisUrl, prefix, port: 0, host: '0.0.0.0', auth: 'ops:s3cret', write: true });
    const oport = Number(new URL(open.url).port);
    const anon = await request(oport, { host: `0.0.0.0:${oport}` });
    const wrong = await request(oport, { host: `0.0.0.0:${oport}`, auth: 'ops:nope' });
    const authed = await request(oport, { host: `0.0.0.0:${oport}`, auth: 'ops:s3cret' });
    await open.close();
    expect([anon.status, wrong.status, authed.status]).toEqual([401, 401, 200]);
    console.log(
      `[faults 14.7] dashboard: page ${page.status}, queue with non-JSON job ${api.status}, foreign Host ${rebound.status}, write when read-only ${write.status}; on 0.0.0.0: no auth refused (bad-option), anonymous ${anon.status}, wrong password ${wrong.status}, right ${authed.status}`,
    );
    await queue.close();
    await deletePrefixKeys(redis, prefix);
    redis.disconnect();
  });
});
