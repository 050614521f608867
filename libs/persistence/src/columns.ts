import type { TableColumnOptions, ValueTransformer } from 'typeorm';

/**
 * Column helpers that mean the same on SQLite and PostgreSQL. Timestamps are ISO-8601 strings
 * (sortable as text, the API's own format), big counts are numbers (pg returns bigint as text).
 */
export const bigintAsNumber: ValueTransformer = {
  to: (v: number | null | undefined) => v,
  from: (v: string | number | null) => (v === null ? null : Number(v)),
};

export const nowIso = () => new Date().toISOString();

/**
 * Migration column shapes, written with TypeORM's Table API so that one migration serves SQLite
 * and PostgreSQL: ids are 32-character strings, timestamps ISO-8601 text.
 */
export const varcharColumn = (name: string, length = 255, extra: Partial<TableColumnOptions> = {}): TableColumnOptions => ({ name, type: 'varchar', length: String(length), ...extra });
export const idColumn = (name = 'id'): TableColumnOptions => varcharColumn(name, 32, { isPrimary: true });
export const timestampColumns = (): TableColumnOptions[] => [varcharColumn('created_at', 32), varcharColumn('updated_at', 32)];
