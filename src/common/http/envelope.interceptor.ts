import { CallHandler, ExecutionContext, HttpStatus, Injectable, NestInterceptor } from '@nestjs/common';
import type { Response } from 'express';
import { map, Observable } from 'rxjs';
import { AsyncEnvelope, AsyncResult, ListResult, SyncEnvelope } from './envelope';

/** Wraps whatever an HTTP handler returns in the §1 envelope. */
@Injectable()
export class EnvelopeInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const res = context.switchToHttp().getResponse<Response>();
    return next.handle().pipe(
      map((result: unknown): SyncEnvelope | AsyncEnvelope => {
        if (result instanceof AsyncResult) {
          res.status(HttpStatus.ACCEPTED);
          return {
            type: 'async',
            status: 'success',
            status_code: 202,
            operation: result.operationUrl,
            metadata: result.operation,
          };
        }
        const base = { type: 'sync', status: 'success', status_code: res.statusCode } as const;
        if (result instanceof ListResult) return { ...base, metadata: result.items, total_size: result.totalSize };
        return { ...base, metadata: result ?? null };
      }),
    );
  }
}
