import { MigrationInterface, QueryRunner, Table } from 'typeorm';

export class Sessions1764100000000 implements MigrationInterface {
  name = 'Sessions1764100000000';

  async up(q: QueryRunner): Promise<void> {
    const varchar = (name: string, length: number, isNullable = false) => ({ name, type: 'varchar', length: String(length), isNullable });
    await q.createTable(
      new Table({
        name: 'sessions',
        columns: [
          { ...varchar('id', 32), isPrimary: true },
          varchar('account_id', 32, true),
          varchar('app', 64),
          { name: 'app_version', type: 'integer', isNullable: true },
          varchar('region', 64),
          varchar('instance_id', 32, true),
          varchar('node', 64, true),
          { name: 'joinable', type: 'boolean', default: false },
          { name: 'ephemeral', type: 'boolean', default: true },
          { name: 'idle_time_min', type: 'integer', default: 0 },
          varchar('status', 16),
          { name: 'status_message', type: 'text', default: "''" },
          { name: 'screen', type: 'text' },
          { name: 'extra_data', type: 'text', isNullable: true },
          { name: 'client_generation', type: 'integer', default: 0 },
          { name: 'client_connected', type: 'boolean', default: false },
          varchar('last_client_activity_at', 32),
          varchar('client_left_at', 32, true),
          varchar('created_at', 32),
          varchar('updated_at', 32),
        ],
        indices: [{ columnNames: ['account_id'] }, { columnNames: ['status'] }, { columnNames: ['instance_id'] }],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('sessions');
  }
}
