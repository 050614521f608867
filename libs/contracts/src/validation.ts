import type { ValidationError } from 'class-validator';

/**
 * One sentence naming every offending field by its path, e.g.
 * `screen.width must not be greater than 3840; property foo should not exist`.
 * Used by every edge that validates with class-validator (HTTP, RPC, manifests, config).
 */
export function formatValidationErrors(errors: ValidationError[], parent = ''): string {
  const parts: string[] = [];
  for (const e of errors) {
    const path = parent ? `${parent}.${e.property}` : e.property;
    for (const message of Object.values(e.constraints ?? {})) {
      // class-validator words messages with the bare property name; give the full path instead.
      parts.push(message.startsWith(`${e.property} `) ? `${path}${message.slice(e.property.length)}` : `${path}: ${message}`);
    }
    if (e.children?.length) parts.push(formatValidationErrors(e.children, path));
  }
  return parts.filter(Boolean).join('; ');
}
