import { INestApplication } from '@nestjs/common';
import { DomainError } from '@streamstack/contracts';
import { RpcClient } from './rpc.client';
import { bootTestApp } from './testing/boot-test-app';
import { NatsServerHandle, startNatsServer } from './testing/nats-server';
import { SLOW_MS, TransportTestController } from './testing/transport-test.controller';
import { TransportKind } from './transport.options';

async function rejection(p: Promise<unknown>): Promise<DomainError> {
  try {
    await p;
  } catch (err) {
    return err as DomainError;
  }
  throw new Error('expected the request to fail');
}

async function eventually(check: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

class Point {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}
  get sum() {
    return this.x + this.y;
  }
}

describe.each<TransportKind>(['local', 'nats'])('%s transport', (kind) => {
  let nats: NatsServerHandle | undefined;
  let app: INestApplication;
  let rpc: RpcClient;
  let controller: TransportTestController;

  beforeAll(async () => {
    if (kind === 'nats') nats = await startNatsServer();
    app = await bootTestApp({ kind, natsServers: nats ? [nats.url] : [], name: 'transport-spec' });
    rpc = app.get(RpcClient);
    controller = app.get(TransportTestController);
  });

  afterAll(async () => {
    await Promise.all(controller?.slowRuns ?? []);
    await app?.close();
    await nats?.stop();
  });

  it('round-trips a request and tells the handler its subject', async () => {
    await expect(rpc.request('test.echo', { hello: 'world' })).resolves.toEqual({
      data: { hello: 'world' },
      subject: 'test.echo',
    });
  });

  it('passes data through JSON: Dates become strings, undefined fields and prototypes vanish', async () => {
    const sent = { when: new Date(0), gone: undefined, point: new Point(1, 2) };
    const answer = await rpc.request<{ data: Record<string, unknown> }>('test.echo', sent);
    expect(answer.data).toEqual({ when: '1970-01-01T00:00:00.000Z', point: { x: 1, y: 2 } });
    expect('gone' in answer.data).toBe(false);
    expect(answer.data.point).not.toBeInstanceOf(Point);
  });

  it('answers with a Promise, the first value of an Observable, or nothing', async () => {
    await expect(rpc.request('test.async', [1, 2])).resolves.toEqual([1, 2]);
    await expect(rpc.request('test.stream', {})).resolves.toBe(1);
    await expect(rpc.request('test.nothing', {})).resolves.toBeUndefined();
  });

  it('serves a `>` wildcard request pattern with the concrete subject', async () => {
    await expect(rpc.request('test.wild.a.b', {})).resolves.toBe('test.wild.a.b');
  });

  it('turns a thrown DomainError into an equal DomainError at the caller', async () => {
    const err = await rejection(rpc.request('test.fail', {}));
    expect(err).toBeInstanceOf(DomainError);
    expect(err).toMatchObject({ code: 'not_found', message: 'widget "w1" not found' });
  });

  it('turns an RpcException({code, message}) into that DomainError', async () => {
    const err = await rejection(rpc.request('test.rpc-exception', {}));
    expect(err).toMatchObject({ code: 'conflict', message: 'instance already running' });
  });

  it('turns an unknown Error into internal, with its message and no stack', async () => {
    const err = await rejection(rpc.request('test.crash', {}));
    expect(err).toBeInstanceOf(DomainError);
    expect(err).toMatchObject({ code: 'internal', message: 'boom' });
  });

  it('times out after the per-call timeout', async () => {
    const started = Date.now();
    const err = await rejection(rpc.request('test.slow', {}, { timeoutMs: 200 }));
    const elapsed = Date.now() - started;
    expect(err).toMatchObject({ code: 'timeout', message: 'no answer from test.slow within 200 ms' });
    expect(elapsed).toBeGreaterThanOrEqual(190);
    expect(elapsed).toBeLessThan(SLOW_MS);
  });

  it('validates the payload DTO (whitelist, forbidNonWhitelisted, transform) and names every field', async () => {
    await expect(rpc.request('test.validate', { name: 'a', count: 2 })).resolves.toEqual({
      isDto: true,
      name: 'a',
      count: 2,
      subject: 'test.validate',
    });
    const err = await rejection(rpc.request('test.validate', { name: 7, count: 0, extra: true }));
    expect(err).toBeInstanceOf(DomainError);
    expect(err.code).toBe('invalid_argument');
    expect(err.message).toContain('name must be a string');
    expect(err.message).toContain('count must not be less than 1');
    expect(err.message).toContain('property extra should not exist');
  });

  it('answers no_responder for a pattern nothing handles', async () => {
    // NATS: the server answers a request without subscribers with a 503 status (nats.js sends
    // no_responders in CONNECT); ClientNats surfaces it as EmptyResponseException.
    const started = Date.now();
    const err = await rejection(rpc.request('test.nobody', {}, { timeoutMs: 2000 }));
    expect(err).toMatchObject({ code: 'no_responder', message: 'nothing handles it (test.nobody)' });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('delivers a wildcard event to its handler with the concrete subject, and only matching ones', async () => {
    rpc.emit('test.abc.event', { n: 1, at: new Date(0) });
    rpc.emit('test.a.b.event', { n: 2 }); // `*` is one token
    rpc.emit('test.abc.other', { n: 3 });
    await eventually(() => controller.events.length >= 1);
    await new Promise((r) => setTimeout(r, 100));
    expect(controller.events).toEqual([
      { subject: 'test.abc.event', data: { n: 1, at: '1970-01-01T00:00:00.000Z' } },
    ]);
  });

  it('never throws from emit, even for a payload JSON cannot carry', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => rpc.emit('test.x.event', cyclic)).not.toThrow();
    expect(() => rpc.emit('nobody.listens', {})).not.toThrow();
  });
});

describe('module-level request timeout', () => {
  it('applies requestTimeoutMs when the call sets none', async () => {
    const app = await bootTestApp({ kind: 'local', natsServers: [], requestTimeoutMs: 150 });
    try {
      const err = await rejection(app.get(RpcClient).request('test.slow', {}));
      expect(err).toMatchObject({ code: 'timeout', message: 'no answer from test.slow within 150 ms' });
    } finally {
      await Promise.all(app.get(TransportTestController).slowRuns);
      await app.close();
    }
  });
});

describe('nats queue groups', () => {
  let nats: NatsServerHandle;
  const apps: INestApplication[] = [];

  beforeAll(async () => {
    nats = await startNatsServer();
    for (let i = 0; i < 2; i++) apps.push(await bootTestApp({ kind: 'nats', natsServers: [nats.url] }));
  });

  afterAll(async () => {
    await Promise.all(apps.map((a) => a.close()));
    await nats.stop();
  });

  it('hands each request to exactly one process but every event to all of them', async () => {
    const rpc = apps[0].get(RpcClient);
    await Promise.all(Array.from({ length: 20 }, () => rpc.request('test.count', {})));
    const controllers = apps.map((a) => a.get(TransportTestController));
    expect(controllers.reduce((n, c) => n + c.handled, 0)).toBe(20);

    rpc.emit('test.fanout.event', {});
    await eventually(() => controllers.every((c) => c.events.length === 1));
  });
});
