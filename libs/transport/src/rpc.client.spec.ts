import { Logger } from '@nestjs/common';
import { NEVER, of, throwError } from 'rxjs';
import { DomainError } from '@streamstack/contracts';
import { RpcClient, RpcClientProxy } from './rpc.client';
import { natsConnectionOptions, resolveTransportOptions, type TransportModuleOptions } from './transport.options';

function clientWith(proxy: Partial<RpcClientProxy>, requestTimeoutMs?: number): RpcClient {
  return new RpcClient(proxy as RpcClientProxy, resolveTransportOptions({ kind: 'local', natsServers: [], requestTimeoutMs }));
}

describe('RpcClient', () => {
  afterEach(() => jest.useRealTimers());

  it('times out after Limits.rpcTimeoutMs (5 s) by default', async () => {
    jest.useFakeTimers();
    const rpc = clientWith({ send: () => NEVER });
    const pending = rpc.request('ams.instance.launch', {}).catch((e: unknown) => e);
    await jest.advanceTimersByTimeAsync(4999);
    await jest.advanceTimersByTimeAsync(1);
    const err = await pending;
    expect(err).toBeInstanceOf(DomainError);
    expect(err).toMatchObject({ code: 'timeout', message: 'no answer from ams.instance.launch within 5000 ms' });
  });

  it('sends {} for a nil payload (Nest refuses null/undefined)', async () => {
    const send = jest.fn((_pattern: unknown, _data: unknown) => of('ok'));
    await expect(clientWith({ send: send as RpcClientProxy['send'] }).request('x', undefined)).resolves.toBe('ok');
    expect(send).toHaveBeenCalledWith('x', {});
  });

  it('maps transport errors to DomainError', async () => {
    const rpc = clientWith({ send: () => throwError(() => ({ code: 'forbidden', message: 'nope' })) });
    await expect(rpc.request('x', {})).rejects.toEqual(new DomainError('forbidden', 'nope'));
  });

  it('logs instead of throwing when an event cannot be sent', () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const rpc = clientWith({
      emit: (() => throwError(() => new Error('CONNECTION_CLOSED'))) as RpcClientProxy['emit'],
    });
    expect(() => rpc.emit('a.b', {})).not.toThrow();
    const throwing = clientWith({
      emit: () => {
        throw new Error('sync failure');
      },
    });
    expect(() => throwing.emit('a.b', {})).not.toThrow();
    expect(warn).toHaveBeenCalledTimes(2);
    warn.mockRestore();
  });
});

describe('resolveTransportOptions', () => {
  it('fills defaults and rejects what cannot work', () => {
    expect(resolveTransportOptions({ kind: 'nats', natsServers: [' nats://a:4222 ', ''] })).toEqual({
      kind: 'nats',
      natsServers: ['nats://a:4222'],
      requestTimeoutMs: 5000,
      name: 'streamstack',
      natsReconnectWaitMs: 2000,
      natsRequestQueue: 'streamstack',
      natsAuth: {},
    });
    expect(() => resolveTransportOptions({ kind: 'nats', natsServers: [] })).toThrow(/at least one NATS server/);
    expect(() => resolveTransportOptions({ kind: 'tcp' as never, natsServers: [] })).toThrow(/local.*nats/);
    expect(() => resolveTransportOptions({ kind: 'local', natsServers: [], requestTimeoutMs: 0 })).toThrow(/positive/);
  });

  it('hands the NATS connection the credentials it was given, and none when there are none', () => {
    const auth = (natsAuth: TransportModuleOptions['natsAuth']) => {
      const o = natsConnectionOptions(resolveTransportOptions({ kind: 'nats', natsServers: ['nats://a:4222'], natsAuth }), 'client');
      return { user: o.user, pass: o.pass, token: o.token, authenticator: typeof o.authenticator };
    };
    expect(auth(undefined)).toEqual({ authenticator: 'undefined' });
    expect(auth({ user: 'node', password: 'pw' })).toEqual({ user: 'node', pass: 'pw', authenticator: 'undefined' });
    expect(auth({ token: 't0k' })).toEqual({ token: 't0k', authenticator: 'undefined' });
    expect(auth({ user: '', password: '', token: '', credentialsFile: '' })).toEqual({ authenticator: 'undefined' });
    expect(() => auth({ credentialsFile: '/nonexistent/x.creds' })).toThrow(/ENOENT/);
  });
});
