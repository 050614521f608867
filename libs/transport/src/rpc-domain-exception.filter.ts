import { ArgumentsHost, Catch, Logger, RpcExceptionFilter } from '@nestjs/common';
import { Observable, throwError } from 'rxjs';
import { subjectOf } from './subject';
import { toErrorPayload } from './rpc-errors';

/**
 * The RPC surface's exception filter: every exception a @MessagePattern/@EventPattern handler
 * throws becomes the `{code, message}` wire error (never a stack), which RpcClient turns back
 * into an equal DomainError. Registered on the microservice by connectTransport(); it is meant
 * for the RPC context only (the HTTP surface has its own filter).
 */
@Catch()
export class RpcDomainExceptionFilter implements RpcExceptionFilter<unknown> {
  private readonly logger = new Logger('RpcExceptionFilter');

  catch(exception: unknown, host: ArgumentsHost): Observable<never> {
    const payload = toErrorPayload(exception);
    if (payload.code === 'internal') {
      // Unexpected failures keep their stack in the log, not on the wire.
      const subject = host.getType() === 'rpc' ? subjectOf(host.switchToRpc().getContext()) : undefined;
      const stack = exception instanceof Error ? exception.stack : undefined;
      this.logger.error(`handler for ${subject ?? 'unknown subject'} failed: ${payload.message}`, stack);
    }
    return throwError(() => payload);
  }
}
