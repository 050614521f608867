import type { DataSource } from 'typeorm';

/** The PostgreSQL advisory lock key every streamstack process takes to migrate ('STRM'). */
export const MIGRATION_LOCK_KEY = 0x5354524d;

/**
 * Runs the pending migrations (all in one transaction, as TypeORM's migrationsRun did). On
 * PostgreSQL under a session advisory lock: processes that start together on a fresh database
 * (two gateways, say) migrate one after the other, and the later ones find nothing left to do,
 * instead of racing into "duplicate key ... pg_type_typname_nsp_index" and a retry loop.
 */
export async function runMigrationsLocked(ds: DataSource): Promise<void> {
  if (ds.options.type !== 'postgres') {
    await ds.runMigrations({ transaction: 'all' });
    return;
  }
  const lock = ds.createQueryRunner();
  await lock.connect();
  try {
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    await ds.runMigrations({ transaction: 'all' });
  } finally {
    await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await lock.release();
  }
}
