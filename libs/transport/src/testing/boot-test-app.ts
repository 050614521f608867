import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { connectTransport } from '../connect-transport';
import { TransportModuleOptions } from '../transport.options';
import { TransportModule } from '../transport.module';
import { TransportTestController } from './transport-test.controller';

/** Boots the transport test controller the way main.ts boots the roles. */
export async function bootTestApp(options: TransportModuleOptions): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [TransportModule.forRoot(options)],
    controllers: [TransportTestController],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: process.env.TRANSPORT_SPEC_LOGS ? undefined : false });
  await connectTransport(app);
  return app;
}
