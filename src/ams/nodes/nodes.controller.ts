import { Body, Controller, Get, Param, Patch } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { IsBoolean } from 'class-validator';
import { RequireRole } from '../../common/auth/auth.decorators';
import { ListResult } from '../../common/http/envelope';
import { NodesService } from './nodes.service';

export class UpdateNodeDto {
  @ApiProperty({ description: 'true drains the node: no new instances are scheduled on it' })
  @IsBoolean()
  unschedulable: boolean;
}

@ApiTags('ams: nodes')
@ApiBearerAuth()
@RequireRole('admin')
@Controller('ams/1.0/nodes')
export class NodesController {
  constructor(private readonly nodes: NodesService) {}

  @Get()
  @ApiOperation({ summary: 'List nodes with their capacity and allocation' })
  async list() {
    const nodes = await this.nodes.list();
    return new ListResult(nodes, nodes.length);
  }

  @Get(':name')
  @ApiOperation({ summary: 'Show a node' })
  get(@Param('name') name: string) {
    return this.nodes.get(name);
  }

  @Patch(':name')
  @ApiOperation({ summary: 'Drain (unschedulable: true) or undrain a node' })
  update(@Param('name') name: string, @Body() body: UpdateNodeDto) {
    return this.nodes.setUnschedulable(name, body.unschedulable);
  }
}
