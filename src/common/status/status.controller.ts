import { Controller, Get, HttpStatus, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { RpcClient } from '@streamstack/transport';
import { DataSource } from 'typeorm';
import { StreamstackConfig } from '../../config/config.schema';
import { Public } from '../auth/auth.decorators';
import { VERSION } from '../version';
import { StatusRegistry } from './status-registry';

@ApiTags('gateway')
@Controller('1.0/status')
export class StatusController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly config: StreamstackConfig,
    private readonly rpc: RpcClient,
    private readonly registry: StatusRegistry,
  ) {}

  /**
   * No auth. Each dependency of this process, and 503 while one fails: the database does not
   * answer, the message bus is down (split shape), or (gateway) no region can launch: no agent
   * has registered yet, or every agent's AMS does not answer.
   */
  @Public()
  @Get()
  @ApiOperation({ summary: 'Health of this process and of each dependency (no auth)' })
  async status(@Res({ passthrough: true }) res: Response) {
    const problems: string[] = [];
    const database = await this.dataSource.query('SELECT 1').then(
      () => 'ok',
      // The driver's code only: its message can carry a host or a user (never echoed).
      (e: { code?: unknown }) => `not answering${typeof e?.code === 'string' ? ` (${e.code})` : ''}`,
    );
    if (database !== 'ok') problems.push(`database: ${database}`);
    const busError = await this.rpc.probe();
    const bus = busError === null ? 'ok' : `not carrying requests: ${busError}`;
    if (busError !== null) problems.push(`message bus (${this.rpc.kind}): ${busError}`);
    // Only a gateway knows its agents; other roles answer without them.
    const live = this.registry.agents();
    if (live?.length === 0) problems.push('no stream agent has registered (no region can launch)');
    for (const a of live ?? []) if (a.ams_error) problems.push(`agent ${a.agent_id} (region ${a.region}): its AMS does not answer: ${a.ams_error}`);
    // One region that can launch is enough to serve; the others are reported, not fatal.
    const launches = live === undefined || live.some((a) => !a.ams_error);
    const healthy = database === 'ok' && busError === null && launches;
    if (!healthy) res.status(HttpStatus.SERVICE_UNAVAILABLE);
    return {
      status: !healthy ? 'unhealthy' : problems.length ? 'degraded' : 'healthy',
      ...(problems.length ? { problems } : {}),
      dependencies: {
        database,
        message_bus: bus,
        ...(live ? { agents: live.map((a) => ({ id: a.agent_id, region: a.region, ams: a.ams_error ? `not answering: ${a.ams_error}` : 'ok' })) } : {}),
      },
      ...(live ? { agents: live.length } : {}),
      roles: this.config.roles,
      version: VERSION,
      uptime_seconds: Math.round(process.uptime()),
    };
  }
}
