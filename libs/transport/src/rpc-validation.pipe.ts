import { Logger, ValidationPipe, ValidationPipeOptions } from '@nestjs/common';
import { DomainError, EDGE_VALIDATION_OPTIONS, formatValidationErrors } from '@streamstack/contracts';
import type { ValidationError } from 'class-validator';

/**
 * The HTTP ValidationPipe settings (EDGE_VALIDATION_OPTIONS) for message
 * handlers' @Payload() DTOs, installed on the RPC microservice by connectTransport(). Nest 11
 * hands the payload to pipes as type 'body' and the @Ctx() context as 'custom', which
 * ValidationPipe skips, so handlers may take both.
 *
 * A refused payload is also logged: it came from another role (a bug there), and an event
 * has nobody to answer.
 */
export class RpcValidationPipe extends ValidationPipe {
  private static readonly logger = new Logger('RpcValidation');

  constructor(options: ValidationPipeOptions = {}) {
    super({
      ...EDGE_VALIDATION_OPTIONS,
      exceptionFactory: (errors: ValidationError[]) => {
        const message = formatValidationErrors(errors);
        RpcValidationPipe.logger.warn(`refused a malformed message payload: ${message}`);
        return new DomainError('invalid_argument', message);
      },
      ...options,
    });
  }
}
