import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Patterns } from '@streamstack/contracts';
import { RpcClient } from '@streamstack/transport';
import { ListResult } from '../../common/http/envelope';

@ApiTags('gateway')
@ApiBearerAuth()
@Controller('1.0/applications')
export class GatewayApplicationsController {
  constructor(private readonly rpc: RpcClient) {}

  @Get()
  @ApiOperation({ summary: 'The applications that can be streamed now' })
  async list() {
    const apps = await this.rpc.request<{ name: string }[]>(Patterns.amsApplicationList, {});
    return new ListResult(apps, apps.length);
  }
}
