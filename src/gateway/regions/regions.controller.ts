import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ListResult } from '../../common/http/envelope';
import { AgentsService } from './agents.service';

@ApiTags('gateway')
@ApiBearerAuth()
@Controller('1.0/regions')
export class RegionsController {
  constructor(private readonly agents: AgentsService) {}

  @Get()
  @ApiOperation({ summary: 'Regions that have a live agent' })
  list() {
    const regions = this.agents.regions().map((name) => ({ name }));
    return new ListResult(regions, regions.length);
  }
}
