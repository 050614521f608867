import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { DomainError } from '@streamstack/contracts';
import type { Request, Response } from 'express';
import { errorEnvelope } from './envelope';

/** Errors from Express middleware carry their HTTP status like this. */
interface StatusError {
  status?: number;
  statusCode?: number;
  message: string;
}

/**
 * The one place that turns any error on the HTTP surface into the §1 error envelope: domain
 * errors by their code, framework errors by their status, everything else as a 500 without
 * internals (logged here).
 */
@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('http');

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const ctx = host.switchToHttp();
    const res = ctx.getResponse<Response>();
    const req = ctx.getRequest<Request>();
    const { status, message, code } = this.describe(exception, req);
    if (status >= 500) this.logger.error(`${req.method} ${req.path}: ${describeForLog(exception)}`);
    if (res.headersSent) return;
    res.status(status).json(errorEnvelope(status, message, code));
  }

  private describe(exception: unknown, req: Request): { status: number; message: string; code?: string } {
    if (exception instanceof DomainError) {
      return { status: exception.status, message: exception.message, code: exception.code };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      if (status === 404 && /^Cannot (GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)/.test(exception.message)) {
        return { status, message: `no route ${req.method} ${req.path}`, code: 'not_found' };
      }
      const body = exception.getResponse();
      const raw = typeof body === 'object' && body && 'message' in body ? (body as { message: unknown }).message : exception.message;
      return { status, message: Array.isArray(raw) ? raw.join('; ') : String(raw) };
    }
    const e = exception as StatusError;
    const status = e?.status ?? e?.statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) return { status, message: e.message };
    return { status: 500, message: 'internal error; see the server log', code: 'internal' };
  }
}

function describeForLog(e: unknown): string {
  return e instanceof Error ? (e.stack ?? e.message) : String(e);
}
