import { Type } from 'class-transformer';
import { IsBoolean, IsDefined, IsIn, IsInt, IsISO8601, IsOptional, IsString, Max, MaxLength, Min, ValidateIf, ValidateNested } from 'class-validator';
import {
  ClientStateEvent,
  DisplaySpec,
  INSTANCE_STATUSES,
  type InstanceSessionRequest,
  type InstanceStatus,
  type InstanceStatusEvent,
  SessionLaunchRequest,
} from './instances';
import { Limits } from './limits';
import { IsName } from './names';

/*
 * The payloads of the session patterns between roles (PROTOCOL.md §7), as classes so that the
 * RPC validation pipe checks them: over NATS they come from other processes.
 */

const { maxWidth, maxHeight, minFps, maxFps, minDensity } = Limits.screen;
const ID_MAX = 64;

/** Nullable but required: `null` passes, a missing field does not. */
const Nullable = () => ValidateIf((_o, v: unknown) => v !== null);

/** A session's screen between roles: every field is set (the gateway filled in the defaults). */
export class StreamScreenDto implements DisplaySpec {
  @IsInt() @Min(1) @Max(maxWidth) width: number;
  @IsInt() @Min(1) @Max(maxHeight) height: number;
  @IsInt() @Min(minFps) @Max(maxFps) fps: number;
  @IsInt() @Min(minDensity) density: number;
}

/** gateway -> agent `agent.{region}.session.launch`. */
export class SessionLaunchDto implements SessionLaunchRequest {
  @IsString() @MaxLength(ID_MAX) session_id: string;
  @IsName('app') app: string;
  @IsOptional() @IsInt() @Min(1) app_version?: number;
  @IsDefined() @ValidateNested() @Type(() => StreamScreenDto) screen: StreamScreenDto;
  @IsOptional() extra_data?: unknown;
}

/** AMS -> agent `agent.instance.session`: a session for an instance launched with streaming. */
export class InstanceSessionDto implements Omit<InstanceSessionRequest, 'region'> {
  @IsString() @MaxLength(ID_MAX) instance_id: string;
  @IsName('app') app: string;
  @IsInt() @Min(1) app_version: number;
  @Nullable() @IsString() node: string | null;
  @IsDefined() @ValidateNested() @Type(() => StreamScreenDto) screen: StreamScreenDto;
  @IsOptional() @IsName('account') account?: string;
}

/** agent -> gateway `gateway.session.create`: the same, with the agent's region. */
export class RegionInstanceSessionDto extends InstanceSessionDto implements InstanceSessionRequest {
  @IsName('region') region: string;
}

/** node -> gateway `gateway.session.client-state`. */
export class ClientStateEventDto implements ClientStateEvent {
  @IsString() @MaxLength(ID_MAX) session_id: string;
  @IsInt() @Min(0) generation: number;
  @IsIn(['connected', 'disconnected', 'failed']) state: 'connected' | 'disconnected' | 'failed';
  @IsOptional() @IsString() @MaxLength(1000) reason?: string;
  @IsOptional() @IsBoolean() spectator?: boolean;
}

/** gateway -> every gateway `gateway.session.changed`. */
export class SessionChangedDto {
  @IsString() @MaxLength(ID_MAX) session_id: string;
  @IsIn(['active', 'replaced', 'ended']) change: 'active' | 'replaced' | 'ended';
  @IsOptional() @IsInt() @Min(0) generation?: number;
}

/** AMS -> everyone `ams.instance.status`. */
export class InstanceStatusEventDto implements InstanceStatusEvent {
  @IsString() @MaxLength(ID_MAX) id: string;
  @IsName('app') app: string;
  @Nullable() @IsString() node: string | null;
  @IsIn(INSTANCE_STATUSES) status: InstanceStatus;
  @IsString() status_message: string;
  @Nullable() @IsString() @MaxLength(ID_MAX) session_id: string | null;
  @IsISO8601() timestamp: string;
}
