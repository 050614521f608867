import { DynamicModule, Global, Module } from '@nestjs/common';
import { StreamstackConfig } from './config.schema';

/** Makes the loaded, validated configuration injectable as `StreamstackConfig`. */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: StreamstackConfig): DynamicModule {
    return {
      module: ConfigModule,
      providers: [{ provide: StreamstackConfig, useValue: config }],
      exports: [StreamstackConfig],
    };
  }
}
