import { MigrationInterface, QueryRunner, Table, TableColumnOptions } from 'typeorm';

// Written with TypeORM's Table API so that one migration serves SQLite and PostgreSQL.
const id = (name = 'id'): TableColumnOptions => ({ name, type: 'varchar', length: '32', isPrimary: true });
const text = (name: string, length = 255, extra: Partial<TableColumnOptions> = {}): TableColumnOptions => ({
  name,
  type: 'varchar',
  length: String(length),
  ...extra,
});
const timestamps: TableColumnOptions[] = [text('created_at', 32), text('updated_at', 32)];

export class InitialSchema1764000000000 implements MigrationInterface {
  name = 'InitialSchema1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'accounts',
        columns: [
          id(),
          text('name', 64, { isUnique: true }),
          text('role', 16),
          text('token_hash', 64, { isUnique: true }),
          text('created_at', 32),
        ],
      }),
    );
    await q.createTable(
      new Table({ name: 'applications', columns: [text('name', 64, { isPrimary: true }), ...timestamps] }),
    );
    await q.createTable(
      new Table({
        name: 'application_versions',
        columns: [
          text('app', 64, { isPrimary: true }),
          { name: 'version', type: 'integer', isPrimary: true },
          { name: 'manifest', type: 'text' },
          { name: 'published', type: 'boolean', default: true },
          text('package_dir', 1024, { isNullable: true }),
          text('created_at', 32),
        ],
        foreignKeys: [{ columnNames: ['app'], referencedTableName: 'applications', referencedColumnNames: ['name'], onDelete: 'CASCADE' }],
      }),
    );
    await q.createTable(
      new Table({
        name: 'nodes',
        columns: [
          text('name', 64, { isPrimary: true }),
          text('address'),
          { name: 'cpus', type: 'integer' },
          { name: 'memory', type: 'bigint' },
          text('status', 16),
          { name: 'unschedulable', type: 'boolean', default: false },
          text('last_seen', 32),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'instances',
        columns: [
          id(),
          text('app', 64),
          { name: 'app_version', type: 'integer' },
          text('node', 64, { isNullable: true }),
          text('status', 16),
          { name: 'status_message', type: 'text', default: "''" },
          { name: 'screen', type: 'text' },
          { name: 'cpus', type: 'integer' },
          { name: 'memory', type: 'bigint' },
          { name: 'enable_streaming', type: 'boolean', default: false },
          text('session_id', 32, { isNullable: true }),
          { name: 'user_data', type: 'text', isNullable: true },
          ...timestamps,
        ],
        indices: [{ columnNames: ['app'] }, { columnNames: ['node'] }],
      }),
    );
    await q.createTable(
      new Table({
        name: 'operations',
        columns: [
          id(),
          text('description'),
          text('status', 16),
          { name: 'resources', type: 'text' },
          { name: 'err', type: 'text', default: "''" },
          ...timestamps,
        ],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['operations', 'instances', 'nodes', 'application_versions', 'applications', 'accounts']) {
      await q.dropTable(t);
    }
  }
}
