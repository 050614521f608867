import { ChildProcess, spawn } from 'node:child_process';
import { AddressInfo, createServer, Socket } from 'node:net';

/** A nats-server started for one test file; stop() it in afterAll. */
export interface NatsServerHandle {
  url: string;
  port: number;
  /** SIGTERM (SIGKILL after 2 s); `signal` sends that one instead. Resolves once it exited. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** A TCP port nothing listens on right now (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(200, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(port, '127.0.0.1', () => done(true));
  });
}

/**
 * Starts `nats-server -a 127.0.0.1 -p <port>` (NATS_SERVER_BIN or nats-server on PATH), with
 * `configFile` (`-c`: users and permissions) when given, and waits until it accepts
 * connections. Never touches a shared server: it always gets its own port.
 */
export async function startNatsServer(port?: number, options: { configFile?: string } = {}): Promise<NatsServerHandle> {
  const p = port ?? (await freePort());
  const bin = process.env.NATS_SERVER_BIN || 'nats-server';
  const config = options.configFile ? ['-c', options.configFile] : [];
  const child: ChildProcess = spawn(bin, [...config, '-a', '127.0.0.1', '-p', String(p)], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let spawnError: Error | undefined;
  child.once('error', (err) => (spawnError = err));

  const deadline = Date.now() + 5000;
  while (!(await canConnect(p))) {
    if (spawnError) throw new Error(`cannot start ${bin}: ${spawnError.message}`);
    if (child.exitCode !== null) throw new Error(`${bin} exited with ${child.exitCode} (port ${p} taken?)`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${bin} did not accept connections on port ${p} within 5 s`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }

  return {
    url: `nats://127.0.0.1:${p}`,
    port: p,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(timer);
    },
  };
}
