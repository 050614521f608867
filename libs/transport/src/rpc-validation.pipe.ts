import { ValidationPipe, ValidationPipeOptions } from '@nestjs/common';

/**
 * The HTTP ValidationPipe settings (whitelist, forbidNonWhitelisted, transform) for message
 * handlers' @Payload() DTOs, installed on the RPC microservice by connectTransport(). Nest 11
 * hands the payload to pipes as type 'body' and the @Ctx() context as 'custom', which
 * ValidationPipe skips, so handlers may take both.
 */
export class RpcValidationPipe extends ValidationPipe {
  constructor(options: ValidationPipeOptions = {}) {
    super({ whitelist: true, forbidNonWhitelisted: true, transform: true, ...options });
  }
}
