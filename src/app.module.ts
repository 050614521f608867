import { DynamicModule, MiddlewareConsumer, Module, NestModule, Type } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR, APP_PIPE } from '@nestjs/core';
import { TransportModule } from '@streamstack/transport';
import { AgentModule } from './agent/agent.module';
import { AmsModule } from './ams/ams.module';
import { AMS_MIGRATIONS } from './ams/migrations/1764000000001-ams-schema';
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
import { GATEWAY_MIGRATIONS } from './gateway/migrations/1764000000000-gateway-schema';
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
        DatabaseModule.forRoot({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, synchronize: options.synchronize, migrations: roleMigrations(config.roles) }),
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

/** What each role brings to a process: its module, and the migrations of the tables it owns. */
const ROLES: Record<Role, { module: (config: StreamstackConfig) => Type<unknown> | DynamicModule; migrations: (new () => unknown)[] }> = {
  gateway: { module: () => GatewayModule, migrations: GATEWAY_MIGRATIONS },
  agent: { module: (config) => AgentModule.forRoot(config), migrations: [] },
  ams: { module: () => AmsModule, migrations: AMS_MIGRATIONS },
  node: { module: (config) => NodeModule.forRoot(config), migrations: [] },
};

/** The migrations of the tables the given roles own, oldest first within each role. */
export const roleMigrations = (roles: Role[]) => roles.flatMap((role) => ROLES[role].migrations);

/** The root module: the core plus the modules of the roles this process runs. */
@Module({})
export class AppModule {
  static forRoot(config: StreamstackConfig, options: { synchronize?: boolean } = {}): DynamicModule {
    return {
      module: AppModule,
      imports: [CoreModule.forRoot(config, options), ...config.roles.map((role) => ROLES[role].module(config))],
    };
  }
}
