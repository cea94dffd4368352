import { type ChildProcess, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis } from '../../src/execution/bullmq/bundle-queue.js';
import { clusterHashTag } from '../../src/execution/bullmq/redis-keys.js';
import { writeDemoFixtures } from '../../src/fixtures/demo-fixtures.js';
import { RunDirectory } from '../../src/store/run-directory.js';
import { BUILD_TIMEOUT_MS, llamaBinaries } from '../support/llama-binaries.js';
import { killProcessesUsing, logLines, PERCEIVE_BIN, perceive, waitFor } from '../support/queue-harness.js';
import { netnsUnavailable, TestNetwork } from '../support/test-network.js';
import { runCounts, SLOW } from './fault-run.js';

/**
 * Real multi-host runs (issue 16.4) on this machine's own test hosts: Redis with a password in one
 * network namespace, bound to its veth address; two worker hosts in two others, each with its own
 * copy of the data and the models at its own paths; the run process (no local workers) in the
 * root namespace. One worker host is killed mid-run (every process in it) and nothing is lost.
 */

/** The models every worker host serves (one worker each); the first one's log decides when to kill a host. */
const MODELS: Array<'llava' | 'clip'> = ['llava', 'clip'];

/** A config over `fixtures` (the demo's What'sUp set and tiny models), the default queue prefix ({perceive}), short locks. */
function multiHostConfig(file: string, fixtures: string, output: string): string {
  const lines = [
    'name: multi-host',
    `output: ${output}`,
    'benchmarks:',
    '  - name: whatsup.synthetic',
    '    format: whatsup-controlled',
    `    annotations: ${fixtures}/whatsup/data/controlled_images_dataset.json`,
    `    data_dir: ${fixtures}/whatsup`,
    '    subset: controlled_a',
    'models:',
    ...(MODELS.includes('llava')
      ? [
          '  llava:',
          '    kind: llama',
          `    model: ${fixtures}/tiny-llava/tiny-llava-text.gguf`,
          `    mmproj: ${fixtures}/tiny-llava/tiny-llava-mmproj.gguf`,
          '    context_size: 2048',
        ]
      : []),
    ...(MODELS.includes('clip') ? ['  clip:', '    kind: clip', `    path: ${fixtures}/tiny-clip`] : []),
    'arms:',
    ...MODELS.map((m) => (m === 'clip' ? '  - { arm: clip, model: clip }' : '  - { arm: vlm.vqascore, model: llava }')),
    'queue:',
    '  attempts: 2',
    '  backoff_ms: 200',
    // A killed host's bundle comes back when its lock expires (the stalled check).
    '  lock_ms: 3000',
    '  stalled_check_ms: 1000',
  ];
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

const unavailable = netnsUnavailable();
if (unavailable) console.warn(`[multi-host] skipped: ${unavailable}`);

describe('REDIS_URL forms (no root needed)', () => {
  it('rediss:// is accepted: TLS is set, and the user and password are read from the URL', async () => {
    const redis = await connectRedis('rediss://worker:s3cret@queue.example.internal:6380/2');
    try {
      expect(redis.options.tls).toBeDefined();
      expect(redis.options).toMatchObject({ host: 'queue.example.internal', port: 6380, db: 2, username: 'worker', password: 's3cret' });
    } finally {
      redis.disconnect();
    }
    const plain = await connectRedis('redis://:s3cret@10.0.0.2:6379');
    try {
      expect(plain.options.tls).toBeUndefined();
      expect(plain.options).toMatchObject({ host: '10.0.0.2', port: 6379, password: 's3cret' });
    } finally {
      plain.disconnect();
    }
  });
});

describe.skipIf(unavailable !== undefined)('multi-host: Redis and two worker hosts in network namespaces', () => {
  const setup = { dir: '' };
  const password = `pw-${crypto.randomBytes(9).toString('hex')}`;
  const aclPassword = `acl-${crypto.randomBytes(9).toString('hex')}`;
  let network: TestNetwork | undefined;
  const children: ChildProcess[] = [];

  /** A process inside a host, with its console output kept. */
  function onHost(host: string, argv: string[], env: Record<string, string>): { child: ChildProcess; out: () => string; exit: Promise<number | null> } {
    const [cmd, args] = network!.exec(host, argv);
    const child = spawn(cmd, args, { env: { ...process.env, PERCEIVE_THREADS: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    return { child, out: () => out, exit };
  }

  beforeAll(async () => {
    setup.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'perceive-multi-host-'));
    if (MODELS.includes('llava')) await llamaBinaries();
    await writeDemoFixtures(path.join(setup.dir, 'fixtures'), { seed: 0 });
    network = TestNetwork.create(['redis', 'a', 'b']);
    const address = network.address('redis');
    // Redis on its own host, bound to its veth address only, with a password and an ACL user.
    onHost(
      'redis',
      [
        'redis-server',
        '--bind',
        address,
        '--port',
        '6379',
        '--save',
        '',
        '--appendonly',
        'no',
        '--requirepass',
        password,
        '--user',
        'worker',
        'on',
        `>${aclPassword}`,
        '~*',
        '&*',
        '+@all',
      ],
      {},
    );
    await waitFor('redis-server on its host', () => reachable(address, 6379), 15_000);
  }, BUILD_TIMEOUT_MS);

  afterAll(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    network?.destroy();
    if (setup.dir) {
      killProcessesUsing(setup.dir);
      fs.rmSync(setup.dir, { recursive: true, force: true });
    }
  });

  /** This host's copy of the data and models, and a config with this host's paths (the default queue prefix). */
  function hostCopy(host: string, output: string): { config: string; dataDir: string } {
    const root = path.join(setup.dir, `host-${host}`);
    const fixtures = path.join(root, 'fixtures');
    for (const part of ['whatsup', 'tiny-llava', 'tiny-clip'])
      fs.cpSync(path.join(setup.dir, 'fixtures', part), path.join(fixtures, part), { recursive: true });
    return { config: multiHostConfig(path.join(root, 'host.yaml'), fixtures, output), dataDir: path.join(fixtures, 'whatsup') };
  }

  it('completes with every sample once when one worker host is killed mid-run; no password anywhere', async () => {
    const net = network!;
    const redisHost = net.address('redis');
    const runUrl = `redis://:${password}@${redisHost}:6379`;
    const hostUrls: Record<string, string> = { a: `redis://worker:${aclPassword}@${redisHost}:6379/0`, b: runUrl };

    // The run host (root namespace): the original fixtures; --workers 0, so only the other hosts compute.
    const output = path.join(setup.dir, 'out');
    const config = multiHostConfig(path.join(setup.dir, 'run.yaml'), path.join(setup.dir, 'fixtures'), output);
    const t = Date.now();
    const run = perceive(['run', '--config', config, '--run-id', 'mh', '--workers', '0'], { REDIS_URL: runUrl });

    const workers: Record<string, Array<ReturnType<typeof onHost>>> = { a: [], b: [] };
    const logs: Record<string, string> = {};
    for (const host of ['a', 'b']) {
      const copy = hostCopy(host, path.join(setup.dir, `host-${host}`, 'out'));
      logs[host] = path.join(setup.dir, `host-${host}`, `${MODELS[0]}.log.jsonl`);
      for (const model of MODELS) {
        workers[host]!.push(
          onHost(
            host,
            [
              process.execPath,
              PERCEIVE_BIN,
              'worker',
              '--config',
              copy.config,
              '--model',
              model,
              '--log',
              path.join(setup.dir, `host-${host}`, `${model}.log.jsonl`),
            ],
            { REDIS_URL: hostUrls[host]!, PERCEIVE_DATA_DIR: copy.dataDir, ...SLOW },
          ),
        );
      }
    }

    // Kill host a while it holds a bundle it has started but not finished.
    const active = (file: string): string[] => {
      const done = new Set(logLines(file, 'bundle done').map((o) => String(o.bundle)));
      return logLines(file, 'bundle started')
        .map((o) => String(o.bundle))
        .filter((b) => !done.has(b));
    };
    await waitFor(
      `host a to be mid-bundle after 3 ${MODELS[0]} tasks`,
      () => logLines(logs.a!, 'task computed').length >= 3 && active(logs.a!).length > 0,
      240_000,
    );
    const inFlight = active(logs.a!);
    const killed = net.killHost('a');
    expect(killed).toBeGreaterThanOrEqual(MODELS.length + (MODELS.includes('llava') ? 1 : 0)); // the workers and llama-server
    const computedByA = logLines(logs.a!, 'task computed').length;

    const done = await run.exit;
    const wallMs = Date.now() - t;
    expect(done.code, done.stderr).toBe(0);
    expect(done.stderr).toContain(`queue: BullMQ on redis://:***@${redisHost}:6379 (prefix "{perceive}"`);

    // Every sample exactly once, all computed; the store holds each task once.
    const c = runCounts(output, 'mh');
    const expected = 24 * MODELS.length;
    expect(c).toMatchObject({ samples: expected, ok: expected, results: expected, duplicates: 0 });
    const samples = RunDirectory.open(path.join(output, 'mh')).readSamples();
    expect(new Set(samples.map((s) => `${s.item} ${s.arm}`)).size).toBe(expected);
    // The bundle host a held came back (its lock expired: the stalled check) and host b finished it.
    const finishedByB = new Set(logLines(logs.b!, 'bundle done').map((o) => String(o.bundle)));
    for (const b of inFlight) expect(finishedByB.has(b)).toBe(true);
    const resumedOnB = logLines(logs.b!, 'bundle started').filter((o) => inFlight.includes(String(o.bundle)));
    expect(resumedOnB.length).toBeGreaterThan(0);
    // Each worker read its own copy of the data, not the run host's paths.
    const manifest = JSON.parse(fs.readFileSync(path.join(output, 'mh', 'manifest.json'), 'utf8')) as { execution: { data_root: string } };
    const dataDirs = ['a', 'b'].map((h) => String(logLines(logs[h]!, 'worker ready')[0]?.dataDir));
    expect(dataDirs).toEqual([path.join(setup.dir, 'host-a', 'fixtures', 'whatsup'), path.join(setup.dir, 'host-b', 'fixtures', 'whatsup')]);
    expect(dataDirs).not.toContain(manifest.execution.data_root);

    // Every key the run and the workers made is inside the {perceive} hash tag (one Redis Cluster slot).
    const redis = new Redis(runUrl, { maxRetriesPerRequest: 1 });
    const keys: string[] = [];
    try {
      let cursor = '0';
      do {
        const [next, page] = await redis.scan(cursor, 'COUNT', 1000);
        cursor = next;
        keys.push(...page);
      } while (cursor !== '0');
    } finally {
      redis.disconnect();
    }
    expect(keys.length).toBeGreaterThan(0);
    expect(new Set(keys.map(clusterHashTag))).toEqual(new Set(['perceive']));

    // Stop host b's workers as an orchestrator would: a graceful drain, exit 0.
    for (const w of workers.b!) w.child.kill('SIGTERM');
    const exits = await Promise.all(workers.b!.map((w) => w.exit));
    expect(exits).toEqual(MODELS.map(() => 0));

    // The passwords appear nowhere: consoles, log files, manifest, report, summary.
    const texts: Array<[string, string]> = [
      ['run console', done.stdout + done.stderr],
      ...['a', 'b'].flatMap((h) => workers[h]!.map((w, k): [string, string] => [`host ${h} worker ${k} console`, w.out()])),
    ];
    for (const file of ['log.jsonl', 'manifest.json', 'report.md', 'report.html', 'summary.json']) {
      const f = path.join(output, 'mh', file);
      expect(fs.existsSync(f), f).toBe(true);
      texts.push([f, fs.readFileSync(f, 'utf8')]);
    }
    for (const h of ['a', 'b'])
      for (const m of MODELS) texts.push([`host ${h} ${m} log`, fs.readFileSync(path.join(setup.dir, `host-${h}`, `${m}.log.jsonl`), 'utf8')]);
    for (const [where, text] of texts) {
      expect(text.includes(password), `${where} holds the password`).toBe(false);
      expect(text.includes(aclPassword), `${where} holds the ACL password`).toBe(false);
    }
    const computedByB = logLines(logs.b!, 'task computed').length;
    console.log(
      `[multi-host] samples ${c.samples} (ok ${c.ok}), stored ${c.results}, duplicates ${c.duplicates}; host a killed (${killed} processes) ` +
        `holding ${inFlight.length} ${MODELS[0]} bundle(s) after ${computedByA} ${MODELS[0]} tasks; host b computed ${computedByB} ${MODELS[0]} tasks and finished them; ` +
        `Redis keys ${keys.length}, all in {perceive}; passwords in none of ${texts.length} outputs; wall ${(wallMs / 1000).toFixed(1)} s`,
    );
  }, 420_000);
});

/** Whether something accepts TCP connections at host:port. */
function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, host);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
    s.setTimeout(1000, () => {
      s.destroy();
      resolve(false);
    });
  }).then(async (ok) => {
    if (!ok) await sleep(100);
    return ok as boolean;
  });
}
