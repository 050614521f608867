import { Type } from 'class-transformer';
import { IsName } from '@streamstack/contracts';
import { IsInt, IsOptional, IsString, MaxLength, Min, ValidateNested } from 'class-validator';

class CapacityDto {
  @IsInt() @Min(0) cpus: number;
  @IsInt() @Min(0) memory: number;
  @IsInt() @Min(0) instances: number;
}

/** agent -> gateway `agent.register` / `agent.heartbeat` (PROTOCOL.md §7). */
export class AgentRegistrationDto {
  @IsString() agent_id: string;
  @IsName('region') region: string;
  @ValidateNested() @Type(() => CapacityDto) capacity: CapacityDto;
  @ValidateNested() @Type(() => CapacityDto) load: CapacityDto;
  /** Set when the agent's AMS does not answer (capacity and load are then zero): the agent is up, its region cannot launch. */
  @IsOptional() @IsString() @MaxLength(500) ams_error?: string;
}
