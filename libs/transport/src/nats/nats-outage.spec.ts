import { DomainError } from '@streamstack/contracts';
import { RpcClient } from '../rpc.client';
import { bootTestApp } from '../testing/boot-test-app';
import { freePort, startNatsServer } from '../testing/nats-server';

async function failure(p: Promise<unknown>): Promise<DomainError> {
  try {
    await p;
  } catch (err) {
    return err as DomainError;
  }
  throw new Error('expected the request to fail');
}

describe('nats transport when NATS is down', () => {
  it('boots anyway, answers unavailable at once, serves once NATS is up, and bounds requests when it goes away', async () => {
    const port = await freePort();
    // Nothing listens on `port` yet: boot must neither throw nor hang.
    const app = await bootTestApp({
      kind: 'nats',
      natsServers: [`nats://127.0.0.1:${port}`],
      natsReconnectWaitMs: 100,
    });
    const rpc = app.get(RpcClient);
    const nats = await (async () => {
      let started = Date.now();
      const down = await failure(rpc.request('test.echo', {}, { timeoutMs: 2000 }));
      expect(down).toBeInstanceOf(DomainError);
      expect(down.code).toBe('unavailable');
      expect(Date.now() - started).toBeLessThan(1000);

      const server = await startNatsServer(port);
      // The server side retries every 100 ms; the client connects on the next request.
      started = Date.now();
      for (;;) {
        const answer = await rpc.request('test.echo', { up: true }, { timeoutMs: 500 }).catch((e: DomainError) => e);
        if (!(answer instanceof DomainError)) break;
        expect(['unavailable', 'no_responder', 'timeout']).toContain(answer.code);
        if (Date.now() - started > 5000) throw answer;
        await new Promise((r) => setTimeout(r, 50));
      }
      return server;
    })();

    try {
      await nats.stop();
      const started = Date.now();
      const gone = await failure(rpc.request('test.echo', {}, { timeoutMs: 500 }));
      // Usually `unavailable` (the client saw the disconnect); `timeout` if it had not yet.
      expect(['unavailable', 'timeout']).toContain(gone.code);
      if (process.env.TRANSPORT_SPEC_LOGS) console.log(gone);
      expect(Date.now() - started).toBeLessThan(1000);
    } finally {
      await app.close();
      await nats.stop();
    }
  });
});
