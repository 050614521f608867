import { DynamicModule, MiddlewareConsumer, Module, NestModule, Type } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR, APP_PIPE } from '@nestjs/core';
import { TransportModule } from '@streamstack/transport';
import { AgentModule } from './agent/agent.module';
import { AmsModule } from './ams/ams.module';
import { AccountEventsHandler } from './common/auth/account-events.handler';
import { AuthGuard } from './common/auth/auth.guard';
import { TokenVerifier } from './common/auth/token-verifier';
import { Clock } from './common/clock';
import { EnvelopeInterceptor } from './common/http/envelope.interceptor';
import { HttpExceptionFilter } from './common/http/http-exception.filter';
import { validationPipe } from './common/http/validation';
import { MetricsController } from './common/metrics/metrics.controller';
import { MetricsService } from './common/metrics/metrics.service';
import { RequestMetricsMiddleware } from './common/metrics/request-metrics.middleware';
import { StatusRegistry } from './common/status/status-registry';
import { StatusController } from './common/status/status.controller';
import { UpgradeRouter } from './common/ws/upgrade-router';
import { ConfigModule } from './config/config.module';
import { Role, StreamstackConfig } from './config/config.schema';
import { DatabaseModule } from './database.module';
import { GatewayModule } from './gateway/gateway.module';
import { NodeModule } from './node/node.module';

/** What every process has, whatever its roles: config, database, transport, HTTP plumbing. */
@Module({})
export class CoreModule implements NestModule {
  static forRoot(config: StreamstackConfig, options: { synchronize?: boolean } = {}): DynamicModule {
    return {
      module: CoreModule,
      global: true,
      imports: [
        ConfigModule.forRoot(config),
        DatabaseModule.forRoot({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, synchronize: options.synchronize }),
        TransportModule.forRoot({
          kind: config.transport,
          natsServers: config.natsServers,
          requestTimeoutMs: config.rpcTimeoutMs,
          name: `streamstack-${config.roles.join('+')}`,
          natsAuth: { user: config.natsUser, password: config.natsPassword, token: config.natsToken, credentialsFile: config.natsCredentials },
        }),
      ],
      controllers: [StatusController, MetricsController, AccountEventsHandler],
      providers: [
        Clock,
        StatusRegistry,
        MetricsService,
        UpgradeRouter,
        TokenVerifier,
        AuthGuard,
        { provide: APP_GUARD, useExisting: AuthGuard },
        { provide: APP_PIPE, useFactory: validationPipe },
        { provide: APP_INTERCEPTOR, useClass: EnvelopeInterceptor },
        { provide: APP_FILTER, useClass: HttpExceptionFilter },
      ],
      exports: [Clock, StatusRegistry, MetricsService, UpgradeRouter, AuthGuard, TokenVerifier],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(RequestMetricsMiddleware).forRoutes('*');
  }
}

const ROLE_MODULES: Record<Role, (config: StreamstackConfig) => Type<unknown> | DynamicModule> = {
  gateway: () => GatewayModule,
  agent: (config) => AgentModule.forRoot(config),
  ams: () => AmsModule,
  node: (config) => NodeModule.forRoot(config),
};

/** The root module: the core plus the modules of the roles this process runs. */
@Module({})
export class AppModule {
  static forRoot(config: StreamstackConfig, options: { synchronize?: boolean } = {}): DynamicModule {
    return {
      module: AppModule,
      imports: [CoreModule.forRoot(config, options), ...config.roles.map((role) => ROLE_MODULES[role](config))],
    };
  }
}
