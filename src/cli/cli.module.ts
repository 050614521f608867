import { Module } from '@nestjs/common';
import { LoadTestCommand } from './loadtest/loadtest.command';
import { NatsConfigCommand } from './nats-config.command';
import { OpenApiCommand } from './openapi.command';
import { REMOTE_COMMANDS } from './remote';
import { ServeCommand } from './serve.command';

@Module({ providers: [ServeCommand, OpenApiCommand, NatsConfigCommand, LoadTestCommand, ...REMOTE_COMMANDS] })
export class CliModule {}
