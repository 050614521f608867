import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { booleanFromQuery, IsName, Limits, numberFromQuery, ScreenDto } from '@streamstack/contracts';
import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayNotEmpty,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import { SESSION_STATUSES, type SessionStatus } from '@streamstack/contracts';

export class CreateSessionDto {
  @ApiProperty({ example: 'test-pattern' })
  @IsName('app')
  app: string;

  @ApiPropertyOptional({ description: 'default: the latest published version' })
  @IsOptional()
  @IsInt()
  @Min(1)
  app_version?: number;

  @ApiPropertyOptional({ default: '', description: 'empty: the gateway picks' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  region?: string;

  @ApiPropertyOptional({ default: true, description: 'delete the session when its client disconnects' })
  @IsOptional()
  @IsBoolean()
  ephemeral?: boolean;

  @ApiPropertyOptional({ default: false, description: 'accepts POST /join; requires idle_time_min > 0' })
  @IsOptional()
  @IsBoolean()
  joinable?: boolean;

  @ApiPropertyOptional({ default: 0, description: 'end the session when nobody joined it for this long; 0 = never' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(7 * 24 * 60)
  idle_time_min?: number;

  @ApiPropertyOptional({ type: ScreenDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => ScreenDto)
  screen?: ScreenDto;

  @ApiPropertyOptional({ description: 'any JSON, handed to the instance' })
  @IsOptional()
  extra_data?: unknown;
}

export class JoinSessionDto {
  @ApiPropertyOptional({ enum: ['driver', 'spectator'], default: 'driver', description: 'spectator: a view-only peer beside the driver (any live session, up to STREAMSTACK_SESSION_MAX_SPECTATORS); driver: take the session over (joinable sessions)' })
  @IsOptional()
  @IsIn(['driver', 'spectator'])
  mode?: 'driver' | 'spectator';

  @ApiPropertyOptional({ type: ScreenDto, description: "the new client's screen (informational)" })
  @IsOptional()
  @ValidateNested()
  @Type(() => ScreenDto)
  screen?: ScreenDto;
}

export const SESSION_SORT_KEYS = ['created_at', 'updated_at', 'status', 'app'] as const;

export class ListSessionsQuery {
  @ApiPropertyOptional({ enum: SESSION_STATUSES })
  @IsOptional()
  @IsIn(SESSION_STATUSES)
  status?: SessionStatus;

  @ApiPropertyOptional({ default: 100, maximum: Limits.listLimitMax })
  @IsOptional()
  @Transform(numberFromQuery)
  @IsInt()
  @Min(1)
  @Max(Limits.listLimitMax)
  limit?: number;

  @ApiPropertyOptional({ default: 0, maximum: Limits.listOffsetMax })
  @IsOptional()
  @Transform(numberFromQuery)
  @IsInt()
  @Min(0)
  @Max(Limits.listOffsetMax)
  offset?: number;

  @ApiPropertyOptional({ enum: SESSION_SORT_KEYS, default: 'created_at' })
  @IsOptional()
  @IsIn(SESSION_SORT_KEYS)
  sort_by?: (typeof SESSION_SORT_KEYS)[number];

  @ApiPropertyOptional({ enum: ['asc', 'desc'], default: 'asc' })
  @IsOptional()
  @IsIn(['asc', 'desc'])
  sort_order?: 'asc' | 'desc';
}

export class DeleteSessionQuery {
  @ApiPropertyOptional({ default: false, description: 'end the session even when its instance cannot be reached' })
  @IsOptional()
  @Transform(booleanFromQuery)
  @IsBoolean()
  force?: boolean;
}

export class DeleteSessionsDto {
  @ApiProperty({ type: [String] })
  @IsArray()
  @ArrayNotEmpty()
  @ArrayMaxSize(Limits.listLimitMax)
  @IsString({ each: true })
  ids: string[];
}
