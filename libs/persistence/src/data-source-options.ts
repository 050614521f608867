import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { DataSourceOptions, EntitySchema, MixedList } from 'typeorm';

export interface DatabaseSettings {
  /** Empty: SQLite file in `dataDir`; `postgres://…`; `sqlite:<path>` (`sqlite::memory:` for tests). */
  databaseUrl: string;
  dataDir: string;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  entities: MixedList<Function | string | EntitySchema>;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  migrations: MixedList<Function | string>;
  /** Tests only: build the schema from the entities instead of running migrations. */
  synchronize?: boolean;
}

export const SQLITE_FILE = 'streamstack.sqlite';
/** How long SQLite waits on a lock held by another connection before failing. */
const SQLITE_BUSY_TIMEOUT_MS = 5000;

export function isSqlite(databaseUrl: string): boolean {
  return !/^postgres(ql)?:\/\//.test(databaseUrl);
}

/** The TypeORM options for either database; the one place that knows the two apart. */
export function buildDataSourceOptions(s: DatabaseSettings): DataSourceOptions {
  const common = {
    entities: s.entities,
    migrations: s.migrations,
    // Not at initialize: runMigrationsLocked (migrate.ts) runs them, under a lock on PostgreSQL.
    migrationsRun: false,
    synchronize: s.synchronize ?? false,
    logging: false,
  } as const;
  if (!isSqlite(s.databaseUrl)) {
    return { ...common, type: 'postgres', url: s.databaseUrl };
  }
  const path = s.databaseUrl ? s.databaseUrl.slice('sqlite:'.length) : join(s.dataDir, SQLITE_FILE);
  if (path !== ':memory:') mkdirSync(dirname(resolve(path)), { recursive: true });
  return {
    ...common,
    type: 'better-sqlite3',
    database: path,
    prepareDatabase: (db: { pragma(sql: string): unknown }) => {
      db.pragma('journal_mode = WAL');
      db.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
      db.pragma('foreign_keys = ON');
    },
  };
}
