import { idColumn, timestampColumns, varcharColumn as text } from '@streamstack/persistence';
import { MigrationInterface, QueryRunner, Table, TableColumn } from 'typeorm';

/**
 * The gateway's tables: accounts and sessions. `ifNotExist`: databases made before each role
 * had its own migrations already have them (from InitialSchema1764000000000 and
 * Sessions1764100000000, which the migrations table still lists).
 */
export class GatewaySchema1764000000000 implements MigrationInterface {
  name = 'GatewaySchema1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'accounts',
        columns: [idColumn(), text('name', 64, { isUnique: true }), text('role', 16), text('token_hash', 64, { isUnique: true }), text('created_at', 32)],
      }),
      true,
    );
    await q.createTable(
      new Table({
        name: 'sessions',
        columns: [
          idColumn(),
          text('account_id', 32, { isNullable: true }),
          text('app', 64),
          { name: 'app_version', type: 'integer', isNullable: true },
          text('region', 64),
          text('instance_id', 32, { isNullable: true }),
          text('node', 64, { isNullable: true }),
          { name: 'joinable', type: 'boolean', default: false },
          { name: 'ephemeral', type: 'boolean', default: true },
          { name: 'idle_time_min', type: 'integer', default: 0 },
          text('status', 16),
          { name: 'status_message', type: 'text', default: "''" },
          { name: 'screen', type: 'text' },
          { name: 'extra_data', type: 'text', isNullable: true },
          { name: 'client_generation', type: 'integer', default: 0 },
          { name: 'client_connected', type: 'boolean', default: false },
          text('last_client_activity_at', 32),
          text('client_left_at', 32, { isNullable: true }),
          ...timestampColumns(),
        ],
        indices: [{ columnNames: ['account_id'] }, { columnNames: ['status'] }, { columnNames: ['instance_id'] }],
      }),
      true,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['sessions', 'accounts']) await q.dropTable(t);
  }
}

/** Sessions count their spectators (issue 10). */
export class SessionSpectators1764200000000 implements MigrationInterface {
  name = 'SessionSpectators1764200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumn('sessions', new TableColumn({ name: 'spectators', type: 'integer', default: 0 }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('sessions', 'spectators');
  }
}

/** The gateway's migrations, oldest first. */
export const GATEWAY_MIGRATIONS = [GatewaySchema1764000000000, SessionSpectators1764200000000];
