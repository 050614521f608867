import { Client } from 'pg';

export const POSTGRES_URL = process.env.E2E_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A schema of the test's own in the shared `test` database; dropped by `drop()`. */
export async function freshSchema(): Promise<{ url: string; drop(): Promise<void> }> {
  const schema = `streamstack_e2e_${process.pid}_${Date.now().toString(36)}`;
  const admin = new Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  await admin.query(`CREATE SCHEMA "${schema}"`);
  await admin.end();
  return {
    url: `${POSTGRES_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
    async drop() {
      const c = new Client({ connectionString: POSTGRES_URL });
      await c.connect();
      await c.query(`DROP SCHEMA "${schema}" CASCADE`);
      await c.end();
    },
  };
}
