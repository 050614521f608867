import { DomainError } from '@streamstack/contracts';
import type { NextFunction, Request, Response } from 'express';

interface BodyParserError {
  type?: string;
  message: string;
}

/**
 * Express error middleware after the body parsers: turns their failures into domain errors
 * with a message a person can act on, before Nest maps them to a bare 400.
 */
export function bodyErrors(err: BodyParserError, _req: Request, _res: Response, next: NextFunction): void {
  if (err?.type === 'entity.parse.failed') return next(new DomainError('invalid_argument', `malformed JSON body: ${err.message}`));
  if (err?.type === 'entity.too.large') return next(new DomainError('payload_too_large', `request body too large: ${err.message}`));
  next(err);
}
