import { execFileSync, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';

/** Why network namespaces cannot be made here (not root, no `ip netns`), or undefined when they can. */
export function netnsUnavailable(): string | undefined {
  if (process.platform !== 'linux') return `needs Linux network namespaces (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'needs root (ip netns add); CI runs as root';
  const probe = spawnSync('ip', ['netns', 'list'], { stdio: 'ignore' });
  if (probe.error || probe.status !== 0) return `\`ip netns\` is unavailable (${probe.error?.message ?? `exit ${probe.status}`}); install iproute2`;
  return undefined;
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/**
 * Test "hosts": one network namespace each, joined by veth pairs to a bridge in the root
 * namespace (which holds .1, so this process reaches every host). Names and the /24 are unique
 * per instance; `destroy()` removes everything it made, whatever state it is in.
 */
export class TestNetwork {
  /** Host name → namespace name. */
  readonly namespaces = new Map<string, string>();
  /** Host name → its address. */
  readonly addresses = new Map<string, string>();
  private readonly links: string[] = [];
  private readonly bridge: string;
  readonly subnet: string;

  private constructor(tag: string, subnet: string) {
    this.bridge = `pvb${tag}`;
    this.subnet = subnet;
  }

  /** A network with these hosts (addresses .2, .3, … in order); the root namespace is .1. */
  static create(hosts: string[]): TestNetwork {
    const tag = crypto.randomBytes(3).toString('hex'); // link names stay within 15 characters
    const net = new TestNetwork(tag, freeSubnet());
    try {
      ip('link', 'add', net.bridge, 'type', 'bridge');
      net.links.push(net.bridge);
      ip('addr', 'add', `${net.subnet}.1/24`, 'dev', net.bridge);
      ip('link', 'set', net.bridge, 'up');
      hosts.forEach((host, i) => {
        const ns = `perceive-${tag}-${host}`;
        const outside = `pv${tag}${i}o`;
        const inside = `pv${tag}${i}i`;
        ip('netns', 'add', ns);
        net.namespaces.set(host, ns);
        ip('link', 'add', outside, 'type', 'veth', 'peer', 'name', inside);
        net.links.push(outside);
        ip('link', 'set', inside, 'netns', ns);
        ip('link', 'set', outside, 'master', net.bridge);
        ip('link', 'set', outside, 'up');
        const address = `${net.subnet}.${i + 2}`;
        ip('netns', 'exec', ns, 'ip', 'addr', 'add', `${address}/24`, 'dev', inside);
        ip('netns', 'exec', ns, 'ip', 'link', 'set', inside, 'up');
        // llama-server and onnxruntime's worker talk over 127.0.0.1 inside the host.
        ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');
        net.addresses.set(host, address);
      });
    } catch (error) {
      net.destroy();
      throw error;
    }
    return net;
  }

  address(host: string): string {
    const a = this.addresses.get(host);
    if (!a) throw new Error(`no host ${host}`);
    return a;
  }

  /** The command line that runs `argv` inside a host (for spawn: an argument array, no shell). */
  exec(host: string, argv: string[]): [string, string[]] {
    const ns = this.namespaces.get(host);
    if (!ns) throw new Error(`no host ${host}`);
    return ['ip', ['netns', 'exec', ns, ...argv]];
  }

  /** The pids of every process inside a host. */
  pids(host: string): number[] {
    const ns = this.namespaces.get(host);
    if (!ns) return [];
    const out = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' });
    return (out.stdout ?? '')
      .split('\n')
      .map((l) => Number(l.trim()))
      .filter((n) => Number.isInteger(n) && n > 0);
  }

  /** Kills every process of a host at once (SIGKILL: the host lost its power). Returns how many. */
  killHost(host: string): number {
    const pids = this.pids(host);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    return pids.length;
  }

  /** Kills every process in the hosts, then removes the namespaces, the veth pairs and the bridge. */
  destroy(): void {
    for (const host of this.namespaces.keys()) this.killHost(host);
    for (const ns of this.namespaces.values()) spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    for (const link of this.links) spawnSync('ip', ['link', 'del', link], { stdio: 'ignore' });
    this.namespaces.clear();
  }
}

/** A 10.x.y.0/24 no interface of this machine uses (its first three octets). */
function freeSubnet(): string {
  const used = spawnSync('ip', ['-4', '-o', 'addr', 'show'], { encoding: 'utf8' }).stdout ?? '';
  for (let tries = 0; tries < 50; tries++) {
    const candidate = `10.${200 + crypto.randomInt(50)}.${crypto.randomInt(250)}`;
    if (!used.includes(` ${candidate}.`)) return candidate;
  }
  throw new Error('no free 10.x.y.0/24 found');
}
