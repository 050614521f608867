import { APPLICATION_KINDS, type ApplicationKind, IsAppEnv, NETWORK_MODES, type NetworkMode, type NodeInstanceStartRequest } from '@streamstack/contracts';
import { Type } from 'class-transformer';
import { Equals, IsIn, IsInt, IsOptional, IsString, Max, Min, ValidateNested } from 'class-validator';

class DisplayDto {
  @IsInt() @Min(1) @Max(3840) width: number;
  @IsInt() @Min(1) @Max(2160) height: number;
  @IsInt() @Min(1) @Max(60) fps: number;
}

class EncoderDto {
  @Equals('h264') codec: 'h264';
  @IsInt() @Min(1) bitrate_kbps: number;
  @IsInt() @Min(1) gop: number;
  @IsOptional() @IsInt() @Min(1) min_bitrate_kbps?: number;
  @IsOptional() @IsInt() @Min(1) max_bitrate_kbps?: number;
  @IsOptional() @IsIn(['resolution-first', 'framerate-first']) degradation?: 'resolution-first' | 'framerate-first';
}

class ResourcesDto {
  @IsInt() @Min(1) @Max(1024) cpus: number;
  /** Bytes. */
  @IsInt() @Min(1) memory: number;
}

/** AMS -> node `node.{node}.instance.start`, validated on arrival like every edge. */
export class NodeInstanceStartDto implements NodeInstanceStartRequest {
  @IsString() instance_id: string;
  @IsString() app: string;
  @IsInt() app_version: number;
  @IsIn(APPLICATION_KINDS) kind: ApplicationKind;
  @IsOptional() @IsString() command?: string;
  @ValidateNested() @Type(() => DisplayDto) display: DisplayDto;
  @ValidateNested() @Type(() => EncoderDto) encoder: EncoderDto;
  @IsOptional() @IsString() app_dir?: string;
  @IsOptional() user_data?: unknown;
  @IsOptional() @IsString() session_id?: string;
  @IsOptional() @ValidateNested() @Type(() => ResourcesDto) resources?: ResourcesDto;
  @IsOptional() @IsIn(NETWORK_MODES) network?: NetworkMode;
  @IsOptional() @IsAppEnv() env?: Record<string, string>;
}
