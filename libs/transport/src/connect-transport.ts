import { INestApplication, INestMicroservice } from '@nestjs/common';
import { NestMicroservice } from '@nestjs/microservices';
import { RpcDomainExceptionFilter } from './rpc-domain-exception.filter';
import { RpcValidationPipe } from './rpc-validation.pipe';
import { TransportService } from './transport.service';

export interface ConnectTransportOptions {
  /** Extra setup of the RPC microservice (interceptors, guards) before it starts listening. */
  configure?: (microservice: INestMicroservice) => void;
}

/**
 * Serves the app's @MessagePattern/@EventPattern handlers on the configured transport, with the
 * RPC surface's own exception filter and validation pipe, and starts listening.
 *
 * Why not `app.useGlobalFilters()` + `{ inheritAppConfig: true }`: that shares ONE filter list
 * between HTTP and RPC, and Nest uses the last-registered catch-all filter for both, so the
 * HTTP envelope filter and this RPC filter would override each other. Instead the microservice
 * gets its own config (the default), and `deferInitialization` lets us register the filter and
 * pipe on it before its handlers are built (they capture global enhancers when built).
 * APP_FILTER / APP_PIPE providers and app.useGlobal*() therefore do not apply to RPC handlers.
 * (Caveat: a deferred NestMicroservice registers @nestjs/websockets gateways on listen(); that
 * package is not used here — signalling uses `ws` directly — so nothing is registered twice.)
 */
export async function connectTransport(
  app: INestApplication,
  options: ConnectTransportOptions = {},
): Promise<INestMicroservice> {
  const transport = app.get(TransportService);
  // Lifecycle hooks (onModuleInit...) run once, for the app; run them before serving patterns.
  await app.init();
  const microservice = app.connectMicroservice(transport.microserviceOptions(), { deferInitialization: true });
  // A deferred microservice would otherwise run every module's init hooks a second time on listen().
  if (microservice instanceof NestMicroservice) microservice.setIsInitHookCalled(true);
  microservice.useGlobalFilters(new RpcDomainExceptionFilter());
  microservice.useGlobalPipes(new RpcValidationPipe());
  options.configure?.(microservice);
  await app.startAllMicroservices();
  transport.listeningStarted();
  return microservice;
}
