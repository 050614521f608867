import { DynamicModule, Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { buildDataSourceOptions, runMigrationsLocked, TransactionRunner } from '@streamstack/persistence';
import { DataSource, type DataSourceOptions } from 'typeorm';

export interface DatabaseModuleOptions {
  databaseUrl: string;
  dataDir: string;
  synchronize?: boolean;
  /** The migrations of the roles this process runs (each role owns its tables' history). */
  migrations: (new () => unknown)[];
}

/**
 * The connection without entities or migrations of its own: each role registers its entities
 * (`TypeOrmModule.forFeature` in its module, collected by `autoLoadEntities`) and brings its
 * migrations, so a process knows, and creates, only the tables of the roles it runs.
 */
export const dataSourceOptions = (o: DatabaseModuleOptions) => buildDataSourceOptions({ ...o, entities: [] });

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
