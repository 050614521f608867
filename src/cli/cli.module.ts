import { Module } from '@nestjs/common';
import { OpenApiCommand } from './openapi.command';
import { REMOTE_COMMANDS } from './remote';
import { ServeCommand } from './serve.command';

@Module({ providers: [ServeCommand, OpenApiCommand, ...REMOTE_COMMANDS] })
export class CliModule {}
