// The DataSource the TypeORM CLI uses (`npm run migration:run`), configured like the server.
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadConfig } from './src/config/config.loader';
import { roleMigrations } from './src/app.module';
import { dataSourceOptions } from './src/database.module';

// The migrations of the roles STREAMSTACK_ROLES names (all of them by default), as `serve` runs them.
const config = loadConfig();
export default new DataSource(dataSourceOptions({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, migrations: roleMigrations(config.roles) }));
