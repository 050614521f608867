import { Body, Controller, Delete, Get, Header, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequireRole } from '../../common/auth/auth.decorators';
import { AsyncResult, ListResult } from '../../common/http/envelope';
import { InstanceOperation, InstancesService } from './instances.service';
import { DeleteInstanceQuery, LaunchInstanceDto, ListInstancesQuery, UpdateInstanceDto } from './launch-instance.dto';

const asAsync = ({ operation }: InstanceOperation) => new AsyncResult(operation, `/ams/1.0/operations/${operation.id}`);

@ApiTags('ams: instances')
@ApiBearerAuth()
@RequireRole('admin')
@Controller('ams/1.0/instances')
export class InstancesController {
  constructor(private readonly instances: InstancesService) {}

  @Post()
  @ApiOperation({ summary: 'Launch an instance (202 with an operation)' })
  async launch(@Body() body: LaunchInstanceDto) {
    return asAsync(await this.instances.launch(body));
  }

  @Get()
  @ApiOperation({ summary: 'List instances' })
  async list(@Query() query: ListInstancesQuery) {
    const items = await this.instances.list(query);
    return new ListResult(items, items.length);
  }

  @Get(':id')
  @ApiOperation({ summary: 'Show an instance' })
  get(@Param('id') id: string) {
    return this.instances.get(id);
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Start or stop an instance (202 with an operation)' })
  async update(@Param('id') id: string, @Body() body: UpdateInstanceDto) {
    return asAsync(body.desired_status === 'started' ? await this.instances.start(id) : await this.instances.stop(id));
  }

  @Delete(':id')
  @ApiOperation({ summary: 'Delete an instance; a running one only with force=true (202 with an operation)' })
  async delete(@Param('id') id: string, @Query() query: DeleteInstanceQuery) {
    return asAsync(await this.instances.delete(id, query.force ?? false));
  }

  @Get(':id/logs')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: "The instance's recent process logs" })
  logs(@Param('id') id: string) {
    return this.instances.logs(id);
  }
}
