/**
 * @streamstack/transport: the one place that knows which transport is live.
 *
 *   imports: [TransportModule.forRoot({ kind: 'local' | 'nats', natsServers, requestTimeoutMs? })]
 *   const app = await NestFactory.create(AppModule);
 *   await connectTransport(app);   // serves @MessagePattern/@EventPattern on that transport
 *   await app.listen(port);
 *
 * Roles inject RpcClient (request/emit). Test helpers: '@streamstack/transport/testing'.
 */
export * from './connect-transport';
export * from './local/local-bus';
export * from './local/local-client.proxy';
export * from './local/local-transport.server';
export * from './nats/nats-errors';
export * from './nats/nats-permissions';
export * from './nats/nats-transport.client';
export * from './nats/nats-transport.server';
export * from './rpc-domain-exception.filter';
export * from './rpc-errors';
export * from './rpc-validation.pipe';
export * from './rpc.client';
export * from './subject';
export * from './transport.module';
export * from './transport.options';
export * from './transport.service';
