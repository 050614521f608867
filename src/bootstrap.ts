import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { Limits, refuseUnsafeKeys } from '@streamstack/contracts';
import { connectTransport } from '@streamstack/transport';
import { json, raw } from 'express';
import helmet from 'helmet';
import { PACKAGE_CONTENT_TYPES } from './ams/applications/applications.controller';
import { AppModule } from './app.module';
import { bodyErrors } from './common/http/body-errors';
import { refuseForeignOrigins } from './common/http/origins';
import { PinoLogger } from './common/logging/pino-logger';
import { VERSION } from './common/version';
import { StreamstackConfig } from './config/config.schema';
import { serveBrowserAssets } from './gateway/web/browser-assets';

/**
 * What pages served from here may load: only their own origin's scripts and styles (the API
 * docs' inline styles aside), media from blob: (a MediaStream), signalling over ws:/wss:.
 */
const CONTENT_SECURITY_POLICY = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'", "'unsafe-inline'"],
  imgSrc: ["'self'", 'data:'],
  mediaSrc: ["'self'", 'blob:'],
  connectSrc: ["'self'", 'ws:', 'wss:'],
  objectSrc: ["'none'"],
  frameAncestors: ["'self'"],
  // helmet's default would send a page served over plain http (a LAN address) to https.
  upgradeInsecureRequests: null,
};

export interface CreateAppOptions {
  /** Tests only: schema from the entities instead of migrations. */
  synchronize?: boolean;
  logger?: PinoLogger | false;
  /** Build the routes only, without starting the roles (the `openapi` verb). */
  skipTransport?: boolean;
}

/**
 * Builds the whole process for a configuration: the role modules, the HTTP surface (body
 * limits, CORS, API docs) and the message transport. The server, the CLI's `openapi` and the
 * e2e tests all build it here, so they cannot drift apart.
 */
export async function createApp(config: StreamstackConfig, options: CreateAppOptions = {}): Promise<NestExpressApplication> {
  const logger = options.logger === undefined ? new PinoLogger(config.logLevel) : options.logger;
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, { synchronize: options.synchronize }), {
    bodyParser: false,
    logger: logger === false ? false : logger,
    abortOnError: false,
  });
  app.disable('x-powered-by');
  app.use(helmet({ contentSecurityPolicy: { directives: CONTENT_SECURITY_POLICY } }));
  app.use(refuseForeignOrigins(config));
  app.use(json({ limit: Limits.jsonBodyBytes, reviver: refuseUnsafeKeys }));
  app.use('/ams/1.0/applications', raw({ type: PACKAGE_CONTENT_TYPES, limit: Limits.packageBytes }));
  app.use(bodyErrors);
  app.enableCors({
    // Credentials travel in headers and tickets, never cookies, so any origin is safe by default.
    origin: config.allowedOrigins.length > 0 ? config.allowedOrigins : true,
    methods: ['GET', 'POST', 'PATCH', 'DELETE', 'OPTIONS'],
    allowedHeaders: ['Authorization', 'Content-Type'],
    // A page on another origin reads when to try again after a 429.
    exposedHeaders: ['Retry-After'],
    maxAge: 600,
  });
  // After CORS: pages on other origins load the SDK too.
  if (config.roles.includes('gateway')) serveBrowserAssets(app);
  SwaggerModule.setup('docs', app, openApiDocument(app), { jsonDocumentUrl: 'docs-json' });
  if (!options.skipTransport) await connectTransport(app);
  return app;
}

export function openApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('streamstack')
    .setDescription(
      'Stream gateway API (/1.0, wire-compatible with Anbox Cloud\'s stream gateway) and AMS API (/ams/1.0). ' +
        'Authenticate with "Authorization: Bearer <token>", "Authorization: Macaroon root=<token>" or ?api_token=.',
    )
    .setVersion(VERSION)
    .addBearerAuth()
    .build();
  const document = SwaggerModule.createDocument(app, config);
  // WebSocket endpoints are not Nest routes; document their upgrade requests by hand.
  document.paths['/ams/1.0/events'] = {
    get: {
      tags: ['ams: events'],
      summary: 'WebSocket: AMS lifecycle and operation events, one JSON text frame each (admin)',
      description: 'Upgrade with the same credentials as any AMS route. Frames: {type: lifecycle|operation, timestamp, metadata: {action, id, ...}}.',
      security: [{ bearer: [] }],
      responses: { '101': { description: 'switching to the WebSocket protocol' }, '401': { description: 'no or bad credentials' }, '403': { description: 'not an admin' } },
    },
  };
  return document;
}
