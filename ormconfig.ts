// The DataSource the TypeORM CLI uses (`npm run migration:run`), configured like the server.
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadConfig } from './src/config/config.loader';
import { dataSourceOptions } from './src/database.module';

const config = loadConfig();
export default new DataSource(dataSourceOptions({ databaseUrl: config.databaseUrl, dataDir: config.dataDir }));
