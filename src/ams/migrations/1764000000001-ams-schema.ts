import { idColumn, timestampColumns, varcharColumn as text } from '@streamstack/persistence';
import { MigrationInterface, QueryRunner, Table } from 'typeorm';

/**
 * AMS's tables: applications and their versions, nodes, instances, operations. `ifNotExist`:
 * databases made before each role had its own migrations already have them (from
 * InitialSchema1764000000000, which the migrations table still lists).
 */
export class AmsSchema1764000000001 implements MigrationInterface {
  name = 'AmsSchema1764000000001';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(new Table({ name: 'applications', columns: [text('name', 64, { isPrimary: true }), ...timestampColumns()] }), true);
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
      true,
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
      true,
    );
    await q.createTable(
      new Table({
        name: 'instances',
        columns: [
          idColumn(),
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
          ...timestampColumns(),
        ],
        indices: [{ columnNames: ['app'] }, { columnNames: ['node'] }],
      }),
      true,
    );
    await q.createTable(
      new Table({
        name: 'operations',
        columns: [idColumn(), text('description'), text('status', 16), { name: 'resources', type: 'text' }, { name: 'err', type: 'text', default: "''" }, ...timestampColumns()],
      }),
      true,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['operations', 'instances', 'nodes', 'application_versions', 'applications']) await q.dropTable(t);
  }
}

/** AMS's migrations, oldest first. */
export const AMS_MIGRATIONS = [AmsSchema1764000000001];
