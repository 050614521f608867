import { Controller, Get, HttpStatus, Res } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { DataSource } from 'typeorm';
import { StreamstackConfig } from '../../config/config.schema';
import { AgentsService } from '../../gateway/regions/agents.service';
import { Public } from '../auth/auth.decorators';
import { VERSION } from '../version';


@ApiTags('gateway')
@Controller('1.0/status')
export class StatusController {
  private readonly agents: AgentsService | null;

  constructor(
    private readonly dataSource: DataSource,
    private readonly config: StreamstackConfig,
    moduleRef: ModuleRef,
  ) {
    // Only a gateway knows its agents; other roles answer without the count.
    try {
      this.agents = moduleRef.get(AgentsService, { strict: false });
    } catch {
      this.agents = null;
    }
  }

  /**
   * No auth. 503 while the process cannot serve: the database does not answer, or (gateway)
   * no agent has registered yet, as right after start.
   */
  @Public()
  @Get()
  @ApiOperation({ summary: 'Health of this process (no auth)' })
  async status(@Res({ passthrough: true }) res: Response) {
    const problems: string[] = [];
    try {
      await this.dataSource.query('SELECT 1');
    } catch (e) {
      problems.push(`database: ${(e as Error).message}`);
    }
    const agents = this.agents?.live().length;
    if (agents === 0) problems.push('no agent has registered yet');
    if (problems.length) res.status(HttpStatus.SERVICE_UNAVAILABLE);
    return {
      status: problems.length ? 'unhealthy' : 'healthy',
      ...(problems.length ? { problems } : {}),
      ...(agents !== undefined ? { agents } : {}),
      roles: this.config.roles,
      version: VERSION,
      uptime_seconds: Math.round(process.uptime()),
    };
  }
}
