import { ValidationPipe } from '@nestjs/common';
import { EDGE_VALIDATION_OPTIONS } from '@streamstack/contracts';

/** The HTTP surface's validation pipe; RPC payloads use the same options (RpcValidationPipe). */
export const validationPipe = () => new ValidationPipe(EDGE_VALIDATION_OPTIONS);
