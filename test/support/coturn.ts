import { ChildProcess, spawn } from 'node:child_process';
import { freeUdpPorts } from './streamer-media';

export interface Coturn {
  port: number;
  url: string;
  secret: string;
  /** coturn's own output so far (allocations, permissions, errors). */
  log(): string;
  stop(): Promise<void>;
}

/**
 * A real coturn (Debian's `turnserver`) of the test's own on a free loopback port, with the
 * REST-API shared secret the gateway signs credentials with. On loopback it needs
 * `allow-loopback-peers` (peers are 127.0.0.1) and relays from 127.0.0.1 only.
 */
export interface CoturnOptions {
  /**
   * coturn's `max-bps`: bytes per second a TURN session may relay in each direction; above it
   * coturn drops (or briefly buffers) packets. Unset: no cap.
   */
  maxBytesPerSecond?: number;
  /** Which block of 20 relay ports to use (several coturns in one process need different ones). */
  relaySlot?: number;
  /** Listen on this port (a coturn started again where the last one was); a free one by default. */
  port?: number;
}

export async function startCoturn(options: CoturnOptions = {}): Promise<Coturn> {
  const port = options.port ?? (await freeUdpPorts(1))[0];
  const secret = `e2e-turn-secret-${process.pid}`;
  const relayBase = 40000 + ((process.pid + (options.relaySlot ?? 0) * 7) % 1000) * 20;
  const child: ChildProcess = spawn(
    'turnserver',
    [
      '-n', // no config file
      '--listening-ip=127.0.0.1',
      `--listening-port=${port}`,
      '--relay-ip=127.0.0.1',
      `--min-port=${relayBase}`,
      `--max-port=${relayBase + 19}`,
      '--use-auth-secret',
      `--static-auth-secret=${secret}`,
      '--realm=streamstack.test',
      '--allow-loopback-peers',
      '--no-cli',
      '--no-tls',
      '--no-dtls',
      '--no-tcp-relay',
      '--log-file=stdout',
      '--simple-log',
      '--verbose',
      ...(options.maxBytesPerSecond ? [`--max-bps=${Math.round(options.maxBytesPerSecond)}`] : []),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 10_000;
  while (!/listener opened on|Total (UDP|General) servers/i.test(output)) {
    if (child.exitCode !== null) throw new Error(`turnserver exited: ${output.slice(-2000)}`);
    if (Date.now() > deadline) throw new Error(`turnserver did not start: ${output.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    url: `turn:127.0.0.1:${port}?transport=udp`,
    secret,
    log: () => output,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
