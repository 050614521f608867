import { ArgumentsHost, BadRequestException, NotFoundException, ServiceUnavailableException, ValidationPipe } from '@nestjs/common';
import { NatsContext, RpcException } from '@nestjs/microservices';
import { EmptyResponseException } from '@nestjs/microservices/errors/empty-response.exception';
import { DomainError } from '@streamstack/contracts';
import { IsString } from 'class-validator';
import { firstValueFrom } from 'rxjs';
import { RpcDomainExceptionFilter } from './rpc-domain-exception.filter';
import { nobodyServes, toDomainError, toErrorPayload } from './rpc-errors';

class NameDto {
  @IsString()
  name!: string;
}

const rpcHost = {
  getType: () => 'rpc',
  switchToRpc: () => ({ getContext: () => new NatsContext(['x.y', undefined]), getData: () => ({}) }),
} as unknown as ArgumentsHost;

describe('RpcDomainExceptionFilter', () => {
  const filter = new RpcDomainExceptionFilter();
  const wire = (exception: unknown) => firstValueFrom(filter.catch(exception, rpcHost)).catch((e: unknown) => e);

  beforeAll(() => jest.spyOn(filter['logger'], 'error').mockImplementation(() => undefined));

  it('sends a DomainError as {code, message}', async () => {
    await expect(wire(new DomainError('not_found', 'x missing'))).resolves.toEqual({ code: 'not_found', message: 'x missing' });
  });

  it('turns ValidationPipe failures into invalid_argument with every field error', async () => {
    const pipe = new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true });
    const err = await pipe.transform({ name: 1, bad: 2 }, { type: 'body', metatype: NameDto }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadRequestException);
    await expect(wire(err)).resolves.toEqual({
      code: 'invalid_argument',
      message: 'property bad should not exist; name must be a string',
    });
  });

  it('maps other HTTP exceptions by status and RpcException payloads as they are', async () => {
    await expect(wire(new NotFoundException('no such app'))).resolves.toEqual({ code: 'not_found', message: 'no such app' });
    await expect(wire(new ServiceUnavailableException('busy'))).resolves.toEqual({ code: 'unavailable', message: 'busy' });
    await expect(wire(new RpcException({ code: 'conflict', message: 'taken' }))).resolves.toEqual({ code: 'conflict', message: 'taken' });
    await expect(wire(new RpcException('plain'))).resolves.toEqual({ code: 'internal', message: 'plain' });
  });

  it('turns anything else into internal without a stack', async () => {
    const payload = await wire(new TypeError('x is not a function'));
    expect(payload).toEqual({ code: 'internal', message: 'x is not a function' });
    expect(JSON.stringify(payload)).not.toContain('at ');
    expect(toErrorPayload('just a string')).toEqual({ code: 'internal', message: 'just a string' });
    expect(toErrorPayload({ code: 'forbidden', message: 'duck-typed' })).toEqual({ code: 'forbidden', message: 'duck-typed' });
  });
});

describe('nobodyServes', () => {
  it.each([
    ['agent.r1.session.launch', 'no stream agent serves region "r1" (agent.r1.session.launch)'],
    ['agent.register', 'no stream agent is running (agent.register)'],
    ['agent.instance.session', 'no stream agent is running (agent.instance.session)'],
    ['ams.instance.launch', 'AMS is not running (ams.instance.launch)'],
    ['gateway.account.verify', 'no gateway is running (gateway.account.verify)'],
    ['node.n1.instance.start', 'node "n1" is not running or not reachable (node.n1.instance.start)'],
    ['signal.abc.to-instance', 'nothing streams session abc (signal.abc.to-instance)'],
    ['test.nobody', 'nothing handles it (test.nobody)'],
  ])('says who is missing for %s (it named only the subject)', (pattern, message) => {
    expect(nobodyServes(pattern)).toBe(message);
  });
});

describe('toDomainError', () => {
  it('rebuilds DomainErrors from wire payloads and transport failures', () => {
    expect(toDomainError({ code: 'conflict', message: 'm' }, 'p')).toEqual(new DomainError('conflict', 'm'));
    expect(toDomainError(new EmptyResponseException('p'), 'p')).toMatchObject({ code: 'no_responder', message: 'nothing handles it (p)' });
    expect(toDomainError(Object.assign(new Error('CONNECTION_REFUSED'), { code: 'CONNECTION_REFUSED' }), 'p').code).toBe('unavailable');
    expect(toDomainError('Error: Connection lost. Trying to reconnect...', 'p').code).toBe('unavailable');
    expect(toDomainError({ status: 'error', message: 'Internal server error' }, 'p')).toMatchObject({ code: 'internal', message: 'Internal server error' });
    const same = new DomainError('timeout', 't');
    expect(toDomainError(same, 'p')).toBe(same);
  });
});
