import { PipeTransform } from '@nestjs/common';
import { invalid, Limits } from '@streamstack/contracts';

/**
 * A version in a route: an integer from 1 to Limits.versionMax. ParseIntPipe took any integer,
 * and one past a PostgreSQL integer reached the database as a 500. (The global ValidationPipe has
 * usually made it a number already, "1e3" 1000 included: the check is on its decimal text.)
 */
export class VersionPipe implements PipeTransform<unknown, number> {
  transform(value: unknown): number {
    const text = String(value);
    const version = /^[0-9]{1,10}$/.test(text) ? Number(text) : NaN;
    if (!(version >= 1 && version <= Limits.versionMax)) throw invalid(`version must be an integer from 1 to ${Limits.versionMax}, got "${text.slice(0, 40)}"`);
    return version;
  }
}
