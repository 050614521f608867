import { applyDecorators } from '@nestjs/common';
import { IsString, Matches, MaxLength } from 'class-validator';

/** Names of applications, accounts and regions: they appear in URLs and in message subjects. */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9._-]*$/;
export const NAME_MAX = 64;

/** A property holding such a name; a bad one is refused with what to fix. */
export function IsName(field: string): PropertyDecorator {
  return applyDecorators(
    IsString(),
    MaxLength(NAME_MAX),
    Matches(NAME_PATTERN, { message: `${field} must be lowercase letters, digits, "-", "_" or ".", starting with a letter or digit` }),
  );
}
