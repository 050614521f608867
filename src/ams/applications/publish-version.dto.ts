import { ApiProperty } from '@nestjs/swagger';
import { IsBoolean } from 'class-validator';

export class PublishVersionDto {
  @ApiProperty()
  @IsBoolean()
  published: boolean;
}
