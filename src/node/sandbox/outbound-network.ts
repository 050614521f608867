import { readFileSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { pollUntil } from '../../common/poll';
import type { ProcessGroup, SupervisedProcess } from '../supervisor/process-group';

/**
 * Where a sandbox with `network: outbound` sends its DNS queries: pasta answers for this
 * link-local address by forwarding to the host's first resolver (which may well be on the
 * host's loopback, like systemd-resolved's 127.0.0.53: the one host service it reaches).
 */
export const SANDBOX_DNS = '169.254.1.1';

export const resolvConf = () => `nameserver ${SANDBOX_DNS}\n`;

/**
 * pasta (Debian's `passt`) connects the sandbox's network namespace to the host's network as
 * an unprivileged user-mode stack: the namespace gets the host's address and routes, and its
 * connections leave through ordinary sockets of the host. No port is forwarded either way
 * (`-t/-u/-T/-U none`: nothing of the host's loopback is mapped in), and the gateway's address
 * is not mapped to the host (`--no-map-gw`), so the host's loopback services stay out of reach.
 * It enters only the network namespace of `pid`, as the node's own user, whom the kernel lets
 * in because that user owns the sandbox's user namespace (by default pasta would drop to
 * `nobody`, who cannot). Not the user namespace: bwrap nests a second one to become uid 1000,
 * and from there the network namespace is out of reach. Then pasta confines itself (its own
 * namespaces, seccomp).
 */
export function pastaArgs(pid: number): string[] {
  const self = `${process.getuid?.() ?? 0}:${process.getgid?.() ?? 0}`;
  const noForwarding = ['-t', 'none', '-u', 'none', '-T', 'none', '-U', 'none', '--no-map-gw'];
  return ['--foreground', '--quiet', '--stderr', '--runas', self, '--config-net', ...noForwarding, '--dns-forward', SANDBOX_DNS, '--netns', `/proc/${pid}/ns/net`, '--netns-only'];
}

export interface OutboundSetup {
  group: ProcessGroup;
  pasta: string;
  /** bwrap, started with `--info-fd 3 --block-fd 4`. */
  sandbox: SupervisedProcess;
  cwd: string;
  logFile: string;
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  /** Races the work against the instance breaking and its start timeout. */
  within<T>(work: Promise<T>, what: string): Promise<T>;
}

/**
 * Gives a waiting sandbox its way out, then lets its application start: pasta runs as a member
 * of the instance's group (stopped with it, and its death fails the instance), and the
 * application is released once the namespace has a default route.
 */
export async function connectOutbound(setup: OutboundSetup): Promise<void> {
  const info = setup.sandbox.child.stdio[3] as Readable | null;
  const release = setup.sandbox.child.stdio[4] as Writable | null;
  if (!info || !release) throw new Error('the sandbox has no info or block fd');
  const pid = await setup.within(childPid(info), 'the sandbox did not report its pid');
  setup.group.spawn({ name: 'network', command: setup.pasta, args: pastaArgs(pid), cwd: setup.cwd, logFile: setup.logFile, env: setup.env });
  await setup.within(pollUntil(() => hasDefaultRoute(pid), setup.timeoutMs, 'a route out'), 'pasta did not connect the sandbox');
  release.on('error', () => undefined); // the sandbox gone: reported as its exit
  release.end('\n');
}

/** bwrap's `--info-fd` JSON: `{"child-pid": N, ...}`. */
function childPid(stream: Readable): Promise<number> {
  return new Promise((resolve) => {
    let text = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      text += chunk;
      const m = /"child-pid"\s*:\s*(\d+)/.exec(text);
      if (m) resolve(Number(m[1]));
    });
  });
}

/** Whether `pid`'s network namespace routes anywhere (/proc/PID/net/route: destination 0). */
function hasDefaultRoute(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/net/route`, 'utf8')
      .split('\n')
      .slice(1)
      .some((line) => line.split('\t')[1] === '00000000');
  } catch {
    return false;
  }
}
