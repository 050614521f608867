import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Caller, CurrentCaller, RequireRole } from '../../common/auth/auth.decorators';
import { ListResult } from '../../common/http/envelope';
import { CreateSessionDto, DeleteSessionQuery, DeleteSessionsDto, JoinSessionDto, ListSessionsQuery } from './session.dto';
import { SessionThrottleGuard } from './session-throttle';
import { SessionsService } from './sessions.service';

/** PROTOCOL.md §3. Clients see only their own sessions; admins see all. */
@ApiTags('gateway: sessions')
@ApiBearerAuth()
@Controller('1.0/sessions')
export class SessionsController {
  constructor(private readonly sessions: SessionsService) {}

  @Post()
  @UseGuards(SessionThrottleGuard)
  @HttpCode(201)
  @ApiOperation({ summary: 'Create a session; answers at once with the signalling url and stun_servers' })
  create(@CurrentCaller() caller: Caller, @Body() body: CreateSessionDto) {
    return this.sessions.create(caller, body);
  }

  @Get()
  @ApiOperation({ summary: 'List sessions (status filter, paging, sorting)' })
  async list(@CurrentCaller() caller: Caller, @Query() query: ListSessionsQuery) {
    const { items, total } = await this.sessions.list(caller, query);
    return new ListResult(items, total);
  }

  @Delete()
  @ApiOperation({ summary: 'End several sessions; 207 when some could not be ended' })
  async deleteMany(@CurrentCaller() caller: Caller, @Body() body: DeleteSessionsDto, @Query() query: DeleteSessionQuery, @Res({ passthrough: true }) res: Response) {
    const results = await this.sessions.terminateMany(caller, body.ids, query.force ?? false);
    if (results.some((r) => r.error)) res.status(207);
    return results;
  }

  @Get(':id')
  @ApiOperation({ summary: 'Show a session' })
  get(@CurrentCaller() caller: Caller, @Param('id') id: string) {
    return this.sessions.get(caller, id);
  }

  @Delete(':id')
  @ApiOperation({ summary: 'End a session and delete its instance' })
  delete(@CurrentCaller() caller: Caller, @Param('id') id: string, @Query() query: DeleteSessionQuery) {
    return this.sessions.terminate(caller, id, query.force ?? false);
  }

  @Post(':id/instance-signaling')
  @HttpCode(200)
  @RequireRole('admin')
  @ApiOperation({ summary: 'Admin: a url for an external instance-side peer to answer this session\'s signalling' })
  instanceSignalling(@Param('id') id: string) {
    return this.sessions.instanceSignalling(id);
  }

  @Post(':id/join')
  @UseGuards(SessionThrottleGuard)
  @HttpCode(200)
  @ApiOperation({ summary: "Join a joinable session, ending the previous client's signalling; or watch a live one as a spectator" })
  join(@CurrentCaller() caller: Caller, @Param('id') id: string, @Body() body: JoinSessionDto) {
    return this.sessions.join(caller, id, body.mode);
  }
}
