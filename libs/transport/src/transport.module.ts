import { DynamicModule, FactoryProvider, Global, Module, ModuleMetadata, Provider } from '@nestjs/common';
import { LocalBus } from './local/local-bus';
import { LocalClientProxy } from './local/local-client.proxy';
import { NatsTransportClient } from './nats/nats-transport.client';
import { RpcClient } from './rpc.client';
import { TransportService } from './transport.service';
import {
  resolveTransportOptions,
  ResolvedTransportOptions,
  RPC_CLIENT_PROXY,
  TRANSPORT_OPTIONS,
  TransportModuleOptions,
} from './transport.options';

export interface TransportModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  useFactory: (...args: never[]) => TransportModuleOptions | Promise<TransportModuleOptions>;
  inject?: FactoryProvider['inject'];
}

const clientProxyProvider: Provider = {
  provide: RPC_CLIENT_PROXY,
  useFactory: (options: ResolvedTransportOptions, bus: LocalBus): LocalClientProxy | NatsTransportClient =>
    options.kind === 'local' ? new LocalClientProxy(bus) : new NatsTransportClient(options),
  inject: [TRANSPORT_OPTIONS, LocalBus],
};

const shared: Provider[] = [LocalBus, clientProxyProvider, RpcClient, TransportService];
const exported = [TRANSPORT_OPTIONS, LocalBus, RPC_CLIENT_PROXY, RpcClient, TransportService];

/**
 * Global: every role module injects RpcClient without importing this module. Import it once,
 * in the root module, with the transport the configuration asks for.
 */
@Global()
@Module({})
export class TransportModule {
  static forRoot(options: TransportModuleOptions): DynamicModule {
    return {
      module: TransportModule,
      global: true,
      providers: [{ provide: TRANSPORT_OPTIONS, useValue: resolveTransportOptions(options) }, ...shared],
      exports: exported,
    };
  }

  static forRootAsync(options: TransportModuleAsyncOptions): DynamicModule {
    return {
      module: TransportModule,
      global: true,
      imports: options.imports ?? [],
      providers: [
        {
          provide: TRANSPORT_OPTIONS,
          useFactory: async (...args: never[]) => resolveTransportOptions(await options.useFactory(...args)),
          inject: options.inject ?? [],
        },
        ...shared,
      ],
      exports: exported,
    };
  }
}
