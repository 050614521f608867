import { IsArray, IsIn, IsInt, IsOptional, IsString, Matches, Min } from 'class-validator';

/** node -> AMS `ams.node.register` / `ams.node.heartbeat`. */
export class NodeRegistrationDto {
  @IsString()
  @Matches(/^[A-Za-z0-9][A-Za-z0-9-_]*$/)
  name: string;

  @IsString()
  address: string;

  @IsInt()
  @Min(1)
  cpus: number;

  @IsInt()
  @Min(1)
  memory: number;

  /** The instances its runtime runs now (on registration and with every heartbeat). */
  @IsOptional()
  @IsArray()
  @IsString({ each: true })
  instances?: string[];
}

/** node -> AMS `ams.node.instance-status`. */
export class NodeReportDto {
  @IsString()
  node: string;

  @IsString()
  instance_id: string;

  @IsIn(['running', 'stopped', 'error'])
  status: 'running' | 'stopped' | 'error';

  @IsOptional()
  @IsString()
  reason?: string;
}
