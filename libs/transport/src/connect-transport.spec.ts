import {
  ArgumentsHost,
  Catch,
  Controller,
  ExceptionFilter,
  Get,
  Injectable,
  Module,
  OnApplicationBootstrap,
  OnModuleInit,
} from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { DomainError } from '@streamstack/contracts';
import type { Response } from 'express';
import request from 'supertest';
import { connectTransport } from './connect-transport';
import { RpcClient } from './rpc.client';
import { TRANSPORT_OPTIONS } from './transport.options';
import { TransportModule } from './transport.module';
import { TransportService } from './transport.service';

@Injectable()
class Hooks implements OnModuleInit, OnApplicationBootstrap {
  inits = 0;
  boots = 0;
  onModuleInit() {
    this.inits++;
  }
  onApplicationBootstrap() {
    this.boots++;
  }
}

/** Stands in for the HTTP surface's catch-all envelope filter. */
@Catch()
class HttpEnvelopeFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost) {
    const res = host.switchToHttp().getResponse<Response>();
    const code = exception instanceof DomainError ? exception.code : 'internal';
    res.status(418).json({ type: 'error', error_code: code });
  }
}

@Controller()
class MixedController {
  @Get('boom')
  httpBoom() {
    throw new DomainError('conflict', 'http side');
  }

  @MessagePattern('mixed.boom')
  rpcBoom() {
    throw new DomainError('conflict', 'rpc side');
  }
}

@Module({ providers: [{ provide: 'NAME', useValue: 'from-config' }], exports: ['NAME'] })
class ConfigLikeModule {}

describe('connectTransport', () => {
  it('runs lifecycle hooks once and keeps the HTTP and RPC exception filters apart', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [TransportModule.forRoot({ kind: 'local', natsServers: [] })],
      controllers: [MixedController],
      providers: [Hooks],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    app.useGlobalFilters(new HttpEnvelopeFilter());
    await connectTransport(app);
    try {
      const hooks = app.get(Hooks);
      expect([hooks.inits, hooks.boots]).toEqual([1, 1]);

      await expect(app.get(RpcClient).request('mixed.boom', {})).rejects.toMatchObject({
        code: 'conflict',
        message: 'rpc side',
      });
      const res = await request(app.getHttpServer()).get('/boom');
      expect(res.status).toBe(418);
      expect(res.body).toEqual({ type: 'error', error_code: 'conflict' });
    } finally {
      await app.close();
    }
  });

  it('takes its options from forRootAsync', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        TransportModule.forRootAsync({
          imports: [ConfigLikeModule],
          inject: ['NAME'],
          useFactory: (name: string) => ({ kind: 'local', natsServers: [], name, requestTimeoutMs: 1234 }),
        }),
      ],
    }).compile();
    expect(moduleRef.get(TRANSPORT_OPTIONS)).toMatchObject({ name: 'from-config', requestTimeoutMs: 1234 });
    expect(moduleRef.get(TransportService).kind).toBe('local');
    await moduleRef.close();
  });
});
