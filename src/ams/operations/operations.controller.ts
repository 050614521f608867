import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Limits, numberFromQuery } from '@streamstack/contracts';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { RequireRole } from '../../common/auth/auth.decorators';
import { ListResult } from '../../common/http/envelope';
import { OperationsService } from './operations.service';

export class WaitQuery {
  @ApiPropertyOptional({ description: 'seconds to wait at most', default: 30, maximum: Limits.operationWaitMaxSeconds })
  @IsOptional()
  @Transform(numberFromQuery)
  @IsInt()
  @Min(0)
  @Max(Limits.operationWaitMaxSeconds)
  timeout?: number;
}

@ApiTags('ams: operations')
@ApiBearerAuth()
@RequireRole('admin')
@Controller('ams/1.0/operations')
export class OperationsController {
  constructor(private readonly operations: OperationsService) {}

  @Get()
  @ApiOperation({ summary: 'List operations, newest first' })
  async list() {
    const ops = await this.operations.list();
    return new ListResult(ops, ops.length);
  }

  @Get(':id')
  @ApiOperation({ summary: 'Show an operation' })
  get(@Param('id') id: string) {
    return this.operations.get(id);
  }

  @Get(':id/wait')
  @ApiOperation({ summary: 'Wait until the operation ends (or the timeout passes) and show it' })
  wait(@Param('id') id: string, @Query() query: WaitQuery) {
    return this.operations.wait(id, query.timeout ?? 30);
  }
}
