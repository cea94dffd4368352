import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { deadPort } from './queue-harness.js';

/**
 * A redis-server of the test's own, on a free port, without persistence (`--save "" --appendonly
 * no`): stopping it loses everything, so starting it again gives an empty Redis on the same port.
 */
export class TestRedis {
  private child: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    private readonly extra: string[],
    /** TLS only (`rediss://`), with this certificate and key (PEM files). */
    private readonly tls: { cert: string; key: string } | undefined,
  ) {}

  static async start(extra: string[] = [], tls?: { cert: string; key: string }): Promise<TestRedis> {
    const r = new TestRedis(await deadPort(), extra, tls);
    await r.restart();
    return r;
  }

  get url(): string {
    return this.tls ? `rediss://localhost:${this.port}` : `redis://127.0.0.1:${this.port}`;
  }

  /** Starts it (again) and waits until it accepts connections. */
  async restart(): Promise<void> {
    const ports = this.tls
      ? [
          '--port',
          '0',
          '--tls-port',
          String(this.port),
          '--tls-cert-file',
          this.tls.cert,
          '--tls-key-file',
          this.tls.key,
          '--tls-ca-cert-file',
          this.tls.cert,
          '--tls-auth-clients',
          'no',
        ]
      : ['--port', String(this.port)];
    this.child = spawn('redis-server', [...ports, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...this.extra], { stdio: 'ignore' });
    const until = Date.now() + 10_000;
    while (!(await listening(this.port))) {
      if (Date.now() > until) throw new Error(`redis-server on port ${this.port} did not start`);
      await sleep(50);
    }
  }

  /** Kills it (SIGKILL: an outage, not a shutdown) and waits until the port is closed. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await gone;
  }
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
