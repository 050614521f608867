import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { Limits } from './limits';

const { maxWidth, maxHeight, minFps, maxFps, minDensity } = Limits.screen;

/** A stream's screen (PROTOCOL.md §3), shared by sessions and instances. */
export class ScreenDto {
  @ApiPropertyOptional({ minimum: 1, maximum: maxWidth, default: 1280 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(maxWidth)
  width?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: maxHeight, default: 720 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(maxHeight)
  height?: number;

  @ApiPropertyOptional({ minimum: minFps, maximum: maxFps, default: 30 })
  @IsOptional()
  @IsInt()
  @Min(minFps)
  @Max(maxFps)
  fps?: number;

  @ApiPropertyOptional({ minimum: minDensity, default: 240 })
  @IsOptional()
  @IsInt()
  @Min(minDensity)
  density?: number;
}
