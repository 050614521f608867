import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { booleanFromQuery, INSTANCE_STATUSES, type InstanceStatus, IsName, ScreenDto } from '@streamstack/contracts';
import { Transform, Type } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Min, ValidateNested } from 'class-validator';

export class LaunchInstanceDto {
  @ApiProperty({ example: 'test-pattern' })
  @IsName('app')
  app: string;

  @ApiPropertyOptional({ description: 'default: the latest published version' })
  @IsOptional()
  @IsInt()
  @Min(1)
  app_version?: number;

  @ApiPropertyOptional({ description: 'pin the instance to this node' })
  @IsOptional()
  @IsString()
  node?: string;

  @ApiPropertyOptional({ default: false, description: 'create a gateway session for it' })
  @IsOptional()
  @IsBoolean()
  enable_streaming?: boolean;

  @ApiPropertyOptional({ description: "with enable_streaming: the account (by name) whose clients may join the instance's session; default: admins only" })
  @IsOptional()
  @IsName('stream_account')
  stream_account?: string;

  @ApiPropertyOptional({ type: ScreenDto, description: "default: the manifest's display" })
  @IsOptional()
  @ValidateNested()
  @Type(() => ScreenDto)
  screen?: ScreenDto;

  @ApiPropertyOptional({ description: 'any JSON, handed to the instance' })
  @IsOptional()
  user_data?: unknown;

  @ApiPropertyOptional({ default: false, description: 'create it without starting it' })
  @IsOptional()
  @IsBoolean()
  no_start?: boolean;
}

export class UpdateInstanceDto {
  @ApiProperty({ enum: ['started', 'stopped'] })
  @IsIn(['started', 'stopped'])
  desired_status: 'started' | 'stopped';
}

export class DeleteInstanceQuery {
  @ApiPropertyOptional({ default: false })
  @IsOptional()
  @Transform(booleanFromQuery)
  @IsBoolean()
  force?: boolean;
}

export class ListInstancesQuery {
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  app?: string;

  @ApiPropertyOptional({ enum: INSTANCE_STATUSES })
  @IsOptional()
  @IsIn(INSTANCE_STATUSES)
  status?: InstanceStatus;
}

/** Agent -> AMS `ams.instance.stop` / `ams.instance.delete`. */
export class InstanceRefDto {
  @IsString()
  id: string;

  @IsOptional()
  @IsBoolean()
  force?: boolean;
}

/** Agent -> AMS `ams.instance.launch`: may carry the gateway session the instance streams to. */
export class SessionInstanceLaunchDto extends LaunchInstanceDto {
  @IsOptional()
  @IsString()
  session_id?: string;
}
