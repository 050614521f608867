import { DynamicModule, Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { buildDataSourceOptions, MIGRATIONS, runMigrationsLocked, TransactionRunner } from '@streamstack/persistence';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { ApplicationVersion } from './ams/applications/application-version.entity';
import { Application } from './ams/applications/application.entity';
import { Instance } from './ams/instances/instance.entity';
import { NodeRecord } from './ams/nodes/node.entity';
import { Operation } from './ams/operations/operation.entity';
import { Account } from './gateway/accounts/account.entity';
import { Session } from './gateway/sessions/session.entity';

/** Every entity of every role: one list for the app, the tests and the TypeORM CLI. */
export const ENTITIES = [Account, Session, Application, ApplicationVersion, NodeRecord, Instance, Operation];

export interface DatabaseModuleOptions {
  databaseUrl: string;
  dataDir: string;
  synchronize?: boolean;
}

export const dataSourceOptions = (o: DatabaseModuleOptions) =>
  buildDataSourceOptions({ ...o, entities: ENTITIES, migrations: MIGRATIONS });

/** The database connection (migrations run on start) and repositories, shared by the roles of a process. */
@Global()
@Module({})
export class DatabaseModule {
  static forRoot(options: DatabaseModuleOptions): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [
        TypeOrmModule.forRootAsync({
          useFactory: () => dataSourceOptions(options),
          dataSourceFactory: async (opts?: DataSourceOptions) => {
            const ds = await new DataSource(opts!).initialize();
            try {
              if (!options.synchronize) await runMigrationsLocked(ds);
            } catch (e) {
              await ds.destroy(); // TypeOrmModule retries with a new one
              throw e;
            }
            return ds;
          },
        }),
        TypeOrmModule.forFeature(ENTITIES),
      ],
      providers: [TransactionRunner],
      exports: [TypeOrmModule, TransactionRunner],
    };
  }
}
