import { ValidationPipe } from '@nestjs/common';
import { DomainError, formatValidationErrors } from '@streamstack/contracts';

/** The one validation pipe of every edge: unknown fields rejected, every bad field named. */
export const validationPipe = () =>
  new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    exceptionFactory: (errors) => new DomainError('invalid_argument', formatValidationErrors(errors)),
  });
