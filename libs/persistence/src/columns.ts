import type { ValueTransformer } from 'typeorm';

/**
 * Column helpers that mean the same on SQLite and PostgreSQL. Timestamps are ISO-8601 strings
 * (sortable as text, the API's own format), big counts are numbers (pg returns bigint as text).
 */
export const bigintAsNumber: ValueTransformer = {
  to: (v: number | null | undefined) => v,
  from: (v: string | number | null) => (v === null ? null : Number(v)),
};

export const nowIso = () => new Date().toISOString();
