import { Transform, Type } from 'class-transformer';
import { IsName } from '@streamstack/contracts';
import { VIDEO_ENCODER_NAMES, type VideoEncoderChoice } from '../node/media-link/streamer.messages';
import {
  ArrayNotEmpty,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  MinLength,
} from 'class-validator';

export const ROLES = ['gateway', 'agent', 'ams', 'node'] as const;
export type Role = (typeof ROLES)[number];
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const list = ({ value }: { value: unknown }) =>
  typeof value === 'string'
    ? value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : value;

/**
 * The one configuration schema (DESIGN.md "Configuration contract"). Every key has a default
 * that works on one machine; `config.loader.ts` fills it from flags, then env, then defaults.
 */
export class StreamstackConfig {
  @Transform(list)
  @IsArray()
  @ArrayNotEmpty()
  @IsIn(ROLES, { each: true })
  roles: Role[];

  @IsString()
  @MinLength(1)
  host: string;

  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(65535)
  port: number;

  /** Where clients reach the gateway; derived from host and port when empty. */
  @IsString()
  @Matches(/^$|^https?:\/\/[^\s/]+(\/.*)?$/, { message: 'publicUrl must be an http(s) URL' })
  publicUrl: string;

  @IsString()
  @MinLength(1)
  dataDir: string;

  /** Empty: SQLite file in the data dir. `postgres://…` for PostgreSQL; `sqlite:PATH` for another SQLite file. */
  @IsString()
  @Matches(/^$|^(postgres|postgresql):\/\/|^sqlite:/, {
    message: 'databaseUrl must be empty, a postgres:// URL or sqlite:<path>',
  })
  databaseUrl: string;

  @IsIn(['local', 'nats'])
  transport: 'local' | 'nats';

  @Transform(list)
  @IsArray()
  @ArrayNotEmpty()
  @Matches(/^(nats|tls):\/\/\S+$/, { each: true, message: 'natsServers must be nats:// URLs' })
  natsServers: string[];

  @IsString()
  natsUser: string;

  @IsString()
  natsPassword: string;

  @IsString()
  natsToken: string;

  @IsString()
  natsCredentials: string;

  @IsString()
  adminToken: string;

  @IsName('region')
  region: string;

  /** This machine's name as a node of AMS. */
  @IsString()
  @Matches(/^[A-Za-z0-9][A-Za-z0-9-_]*$/, { message: 'nodeName must be letters, digits, - and _' })
  nodeName: string;

  @Transform(list)
  @IsArray()
  @Matches(/^stuns?:\S+$/, { each: true, message: 'stunUrls must be stun: URLs' })
  stunUrls: string[];

  @Transform(list)
  @IsArray()
  @Matches(/^turns?:\S+$/, { each: true, message: 'turnUrls must be turn: or turns: URLs' })
  turnUrls: string[];

  @IsString()
  turnSecret: string;

  @Type(() => Number)
  @IsInt()
  @Min(60)
  turnTtl: number;

  @IsString()
  iceBindAddress: string;

  @IsString()
  @Matches(/^$|^\d{1,5}-\d{1,5}$/, { message: 'icePortRange must look like 50000-50100' })
  icePortRange: string;

  @Transform(list)
  @IsArray()
  @IsString({ each: true })
  allowedOrigins: string[];

  @IsIn(LOG_LEVELS)
  logLevel: LogLevel;

  /** Overcommit factors of the node's capacity (as Anbox's AMS). */
  @Type(() => Number)
  @Min(0.1)
  cpuAllocationRate: number;

  @Type(() => Number)
  @Min(0.1)
  memoryAllocationRate: number;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(100)
  rpcTimeoutMs: number;

  /** Gateway: session creations and joins a minute, per client account and per client address. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  sessionRatePerAccount: number;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  sessionRatePerAddress: number;

  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(16)
  sessionMaxSpectators: number;

  @Transform(({ value }: { value: unknown }) => ({ true: true, false: false })[String(value) as 'true' | 'false'] ?? value)
  @IsBoolean({ message: 'must be true or false' })
  warmSpares: boolean;

  @IsIn(VIDEO_ENCODER_NAMES)
  videoEncoder: VideoEncoderChoice;

  @IsIn(['on', 'off'], { message: 'must be on or off' })
  instanceSandbox: 'on' | 'off';
}

/** One row per key: its env var, its flag (if any) and its default. README lists the same table. */
export interface ConfigKey {
  key: keyof StreamstackConfig;
  env: string;
  flag?: string;
  default: string;
  help: string;
}
