import { DynamicModule, Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { buildDataSourceOptions, MIGRATIONS, runMigrationsLocked, TransactionRunner } from '@streamstack/persistence';
import { DataSource, type DataSourceOptions } from 'typeorm';

export interface DatabaseModuleOptions {
  databaseUrl: string;
  dataDir: string;
  synchronize?: boolean;
}

/**
 * The connection without entities: each role registers its own (`TypeOrmModule.forFeature` in its
 * module, collected by `autoLoadEntities`), so a process knows only the tables of the roles it
 * runs. The migrations are one history for the one schema every role's tables live in.
 */
export const dataSourceOptions = (o: DatabaseModuleOptions) => buildDataSourceOptions({ ...o, entities: [], migrations: MIGRATIONS });

/** The database connection (migrations run on start), shared by the roles of a process. */
@Global()
@Module({})
export class DatabaseModule {
  static forRoot(options: DatabaseModuleOptions): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [
        TypeOrmModule.forRootAsync({
          useFactory: () => ({ ...dataSourceOptions(options), autoLoadEntities: true }),
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
      ],
      providers: [TransactionRunner],
      exports: [TypeOrmModule, TransactionRunner],
    };
  }
}
