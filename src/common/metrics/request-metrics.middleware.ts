import { Injectable, Logger, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { redactUrl } from '../auth/credentials';
import { MetricsService } from './metrics.service';

/**
 * One log line and one metric sample per HTTP request, whatever answered it (a handler, a
 * guard, the exception filter). Labels use the route pattern, never the raw URL.
 */
@Injectable()
export class RequestMetricsMiddleware implements NestMiddleware {
  private readonly logger = new Logger('http');

  constructor(private readonly metrics: MetricsService) {}

  use(req: Request, res: Response, next: NextFunction): void {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = (req.route as { path?: string } | undefined)?.path ?? 'unmatched';
      this.metrics.httpRequests.inc({ method: req.method, route, status: String(res.statusCode) });
      this.metrics.httpDuration.observe({ method: req.method, route }, seconds);
      this.logger.log(`${req.method} ${redactUrl(req.originalUrl)} ${res.statusCode} ${(seconds * 1000).toFixed(1)}ms`);
    });
    next();
  }
}
