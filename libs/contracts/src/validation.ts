import type { ValidationError } from 'class-validator';
import { DomainError } from './errors';

/**
 * One sentence naming every offending field by its path, e.g.
 * `screen.width must not be greater than 3840; property foo should not exist`.
 * Used by every edge that validates with class-validator (HTTP, RPC, manifests, config).
 */
export function formatValidationErrors(errors: ValidationError[], parent = ''): string {
  const parts: string[] = [];
  for (const e of errors) {
    const path = parent ? `${parent}.${e.property}` : e.property;
    for (const [constraint, message] of Object.entries(e.constraints ?? {})) {
      // class-validator words messages with the bare property name; give the full path instead.
      if (constraint === 'whitelistValidation') parts.push(`property ${path} should not exist`);
      else if (message.startsWith(`${e.property} `)) parts.push(`${path}${message.slice(e.property.length)}`);
      else parts.push(`${path}: ${message}`);
    }
    if (e.children?.length) parts.push(formatValidationErrors(e.children, path));
  }
  return parts.filter(Boolean).join('; ');
}

/**
 * The ValidationPipe settings of every edge (HTTP bodies and queries, RPC payloads): unknown
 * fields rejected, strings transformed to the DTO's types, every bad field named in one
 * `invalid_argument` error.
 */
export const EDGE_VALIDATION_OPTIONS = {
  whitelist: true,
  forbidNonWhitelisted: true,
  transform: true,
  exceptionFactory: (errors: ValidationError[]) => new DomainError('invalid_argument', formatValidationErrors(errors)),
};

/** class-transformer: `?force=true` / `1` / `false` / `0` in a query string as a boolean. */
export const booleanFromQuery = ({ value }: { value: unknown }) =>
  value === 'true' || value === '1' ? true : value === 'false' || value === '0' ? false : value;

/**
 * class-transformer: a number in a query string. Only strings convert: `?limit[a]=1` hands over
 * an object (which `Number()` may throw on) and must fail validation, not the request.
 */
export const numberFromQuery = ({ value }: { value: unknown }) => (typeof value === 'string' ? Number(value) : value);
