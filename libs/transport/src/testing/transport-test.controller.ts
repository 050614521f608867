import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, MessagePattern, NatsContext, Payload, RpcException } from '@nestjs/microservices';
import { DomainError } from '@streamstack/contracts';
import { IsInt, IsString, Min, MinLength } from 'class-validator';
import { of } from 'rxjs';
import { subjectOf } from '../subject';

export class ValidateDto {
  @IsString()
  @MinLength(1)
  name!: string;

  @IsInt()
  @Min(1)
  count!: number;
}

/** How long test.slow takes to answer; callers use a shorter timeout. */
export const SLOW_MS = 600;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The handlers the transport specs run over both transports; nothing here knows which is live. */
@Controller()
export class TransportTestController {
  readonly events: { subject: string | undefined; data: unknown }[] = [];
  readonly slowRuns: Promise<void>[] = [];
  handled = 0;

  @MessagePattern('test.echo')
  echo(@Payload() data: unknown, @Ctx() ctx: NatsContext) {
    return { data, subject: ctx.getSubject() };
  }

  @MessagePattern('test.async')
  async asyncEcho(@Payload() data: unknown) {
    await sleep(5);
    return data;
  }

  @MessagePattern('test.stream')
  stream() {
    return of(1, 2, 3);
  }

  @MessagePattern('test.nothing')
  nothing(): void {
    return undefined;
  }

  @MessagePattern('test.fail')
  fail() {
    throw new DomainError('not_found', 'widget "w1" not found');
  }

  @MessagePattern('test.rpc-exception')
  rpcException() {
    throw new RpcException({ code: 'conflict', message: 'instance already running' });
  }

  @MessagePattern('test.crash')
  crash() {
    throw new Error('boom');
  }

  @MessagePattern('test.slow')
  slow() {
    const run = sleep(SLOW_MS);
    this.slowRuns.push(run);
    return run.then(() => 'late');
  }

  @MessagePattern('test.validate')
  validate(@Payload() dto: ValidateDto, @Ctx() ctx: NatsContext) {
    return { isDto: dto instanceof ValidateDto, name: dto.name, count: dto.count, subject: ctx.getSubject() };
  }

  @MessagePattern('test.count')
  count() {
    return ++this.handled;
  }

  @MessagePattern('test.wild.>')
  wild(@Ctx() ctx: NatsContext) {
    return subjectOf(ctx);
  }

  @EventPattern('test.*.event')
  onEvent(@Payload() data: unknown, @Ctx() ctx: NatsContext) {
    this.events.push({ subject: subjectOf(ctx), data });
  }
}
