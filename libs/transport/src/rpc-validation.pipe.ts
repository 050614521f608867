import { ValidationPipe, ValidationPipeOptions } from '@nestjs/common';
import { EDGE_VALIDATION_OPTIONS } from '@streamstack/contracts';

/**
 * The HTTP ValidationPipe settings (EDGE_VALIDATION_OPTIONS) for message
 * handlers' @Payload() DTOs, installed on the RPC microservice by connectTransport(). Nest 11
 * hands the payload to pipes as type 'body' and the @Ctx() context as 'custom', which
 * ValidationPipe skips, so handlers may take both.
 */
export class RpcValidationPipe extends ValidationPipe {
  constructor(options: ValidationPipeOptions = {}) {
    super({ ...EDGE_VALIDATION_OPTIONS, ...options });
  }
}
