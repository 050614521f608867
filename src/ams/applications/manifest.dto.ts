import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { plainToInstance, Type } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  Max,
  Min,
  Validate,
  ValidateNested,
  validate,
  ValidationArguments,
  ValidationError,
  ValidatorConstraint,
  ValidatorConstraintInterface,
} from 'class-validator';
import { APPLICATION_KINDS, type ApplicationKind, type DisplaySpec, type EncoderSpec, findUnsafeKey, invalid, IsAppEnv, IsName, Limits, NAME_MAX, NAME_PATTERN, NETWORK_MODES, type NetworkMode } from '@streamstack/contracts';

/*
 * Application manifest (PROTOCOL.md §6), as sent in a JSON body or as `manifest.yaml` in a
 * package. `validateManifest()` is the one entry point: it applies defaults, validates and
 * returns a normalised plain `Manifest`. The DTO classes exist for validation and OpenAPI.
 */

export const MANIFEST_COMMAND_MAX = 4096;
export const ENCODER_CODECS = ['h264'] as const;

/** The test-pattern app draws a 48-cell strip of 16x16 px (PROTOCOL.md §9). */
export const TEST_PATTERN_MIN_WIDTH = 768;
export const TEST_PATTERN_MIN_HEIGHT = 16;

export const MANIFEST_DEFAULTS = {
  display: { width: 1280, height: 720, fps: 30 },
  resources: { cpus: 1, memory: '512MB' },
  encoder: { codec: 'h264' as const, bitrate_kbps: 4000 },
  /** gop defaults to this many seconds of frames, i.e. 2 × fps. */
  gopSeconds: 2,
};

/**
 * Normalised manifest. Every optional block is filled with its defaults, so consumers never
 * re-apply them. `resources.memory` is a number of **bytes** (the unit string the author
 * wrote is not kept): integers are accepted on input, so a stored Manifest re-validates
 * unchanged (GET → edit → PATCH round-trips).
 */
export interface Manifest {
  name: string;
  /** Absent when the author left it to the server to assign the next version. */
  version?: number;
  kind: ApplicationKind;
  /** x11 only: the program to run; relative paths resolve inside the package folder. */
  command?: string;
  display: DisplaySpec;
  resources: { cpus: number; memory: number };
  encoder: EncoderSpec;
  /** x11 only: what its sandbox's network reaches (absent in manifests stored before it existed: none). */
  network?: NetworkMode;
  /** x11 only: variables its application finds in its environment. */
  env?: Record<string, string>;
}

// ---------------------------------------------------------------------------------------
// Memory sizes

const MEMORY_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

/**
 * Bytes from a memory size: an integer number of bytes, or a string with an optional unit.
 * SI units are decimal and IEC units binary, as in LXD (which Anbox builds on):
 * `512MB` = 512 000 000, `256MiB` = 268 435 456. Units are case-insensitive and may be
 * preceded by a space; decimals are allowed (`1.5GB`) and rounded to a whole byte.
 * Throws `invalid_argument` with a message naming the value.
 */
export function parseMemory(value: unknown): number {
  const error = (why: string) => invalid(`memory ${JSON.stringify(value)} ${why}`);
  let bytes: number;
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw error('must be a whole number of bytes, or a string such as "512MB"');
    bytes = value;
  } else if (typeof value === 'string') {
    const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value);
    if (!match) throw error('must be a number with an optional unit, such as "512MB", "2GB", "1GiB" or "268435456"');
    const unit = MEMORY_UNITS[match[2].toLowerCase()];
    if (unit === undefined) throw error('has an unknown unit (use B, KB, MB, GB, TB, KiB, MiB, GiB or TiB)');
    bytes = Math.round(Number(match[1]) * unit);
  } else {
    throw error('must be a string such as "512MB" or an integer number of bytes');
  }
  if (bytes <= 0) throw error('must be greater than zero');
  if (!Number.isSafeInteger(bytes)) throw error('is too large');
  return bytes;
}

// ---------------------------------------------------------------------------------------
// Cross-field constraints

@ValidatorConstraint({ name: 'commandForKind' })
class CommandForKind implements ValidatorConstraintInterface {
  validate(value: unknown, args: ValidationArguments): boolean {
    return commandProblem(value, (args.object as ManifestDto).kind) === undefined;
  }
  defaultMessage(args: ValidationArguments): string {
    return commandProblem(args.value, (args.object as ManifestDto).kind) ?? 'command is invalid';
  }
}

function commandProblem(value: unknown, kind: unknown): string | undefined {
  if (kind === 'test-pattern') return value === undefined ? undefined : 'command is not allowed for kind test-pattern';
  if (kind !== 'x11' && value === undefined) return undefined;
  if (value === undefined) return 'command is required for kind x11';
  if (typeof value !== 'string') return 'command must be a string';
  if (value.trim() === '') return 'command must not be empty';
  if (value.length > MANIFEST_COMMAND_MAX)
    return `command must be shorter than or equal to ${MANIFEST_COMMAND_MAX} characters`;
  if (value.includes('\0')) return 'command must not contain NUL characters';
  return undefined;
}

@ValidatorConstraint({ name: 'displayForKind' })
class DisplayForKind implements ValidatorConstraintInterface {
  validate(value: unknown, args: ValidationArguments): boolean {
    return displayProblem(value, (args.object as ManifestDto).kind) === undefined;
  }
  defaultMessage(args: ValidationArguments): string {
    return displayProblem(args.value, (args.object as ManifestDto).kind) ?? 'display is invalid';
  }
}

function displayProblem(value: unknown, kind: unknown): string | undefined {
  if (kind !== 'test-pattern' || typeof value !== 'object' || value === null) return undefined;
  // Only judge well-formed numbers: bad types and ranges are already reported by DisplayDto.
  const { width, height } = value as { width?: unknown; height?: unknown };
  const problems: string[] = [];
  if (Number.isInteger(width) && (width as number) < TEST_PATTERN_MIN_WIDTH) {
    problems.push(`display.width must be at least ${TEST_PATTERN_MIN_WIDTH} for kind test-pattern`);
  }
  if (Number.isInteger(height) && (height as number) < TEST_PATTERN_MIN_HEIGHT) {
    problems.push(`display.height must be at least ${TEST_PATTERN_MIN_HEIGHT} for kind test-pattern`);
  }
  if (problems.length === 0) return undefined;
  return `${problems.join('; ')} (its timestamp strip needs ${TEST_PATTERN_MIN_WIDTH}x${TEST_PATTERN_MIN_HEIGHT} pixels)`;
}

@ValidatorConstraint({ name: 'memorySize' })
class MemorySize implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return memoryProblem(value) === undefined;
  }
  defaultMessage(args: ValidationArguments): string {
    return memoryProblem(args.value) ?? 'memory is invalid';
  }
}

function memoryProblem(value: unknown): string | undefined {
  try {
    parseMemory(value);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

// ---------------------------------------------------------------------------------------
// DTOs

export class DisplayDto {
  @ApiProperty({ minimum: 1, maximum: Limits.screen.maxWidth, default: MANIFEST_DEFAULTS.display.width })
  @IsInt()
  @Min(1)
  @Max(Limits.screen.maxWidth)
  width: number;

  @ApiProperty({ minimum: 1, maximum: Limits.screen.maxHeight, default: MANIFEST_DEFAULTS.display.height })
  @IsInt()
  @Min(1)
  @Max(Limits.screen.maxHeight)
  height: number;

  @ApiProperty({ minimum: Limits.screen.minFps, maximum: Limits.screen.maxFps, default: MANIFEST_DEFAULTS.display.fps })
  @IsInt()
  @Min(Limits.screen.minFps)
  @Max(Limits.screen.maxFps)
  fps: number;
}

export class ResourcesDto {
  @ApiProperty({ minimum: 1, maximum: 1024, default: MANIFEST_DEFAULTS.resources.cpus })
  @IsInt()
  @Min(1)
  @Max(1024)
  cpus: number;

  @ApiProperty({
    oneOf: [
      { type: 'string', example: '512MB' },
      { type: 'integer', minimum: 1, example: 536870912 },
    ],
    default: MANIFEST_DEFAULTS.resources.memory,
    description:
      'Size with an optional unit (B, KB, MB, GB, TB decimal; KiB, MiB, GiB, TiB binary) or integer bytes. ' +
      'Normalised manifests carry it as integer bytes.',
  })
  @Validate(MemorySize)
  memory: string | number;
}

@ValidatorConstraint({ name: 'maxNotBelowMin' })
class MaxNotBelowMin implements ValidatorConstraintInterface {
  validate(max: unknown, args: ValidationArguments): boolean {
    const min = (args.object as EncoderDto).min_bitrate_kbps;
    return typeof max !== 'number' || typeof min !== 'number' || max >= min;
  }

  defaultMessage(): string {
    return 'max_bitrate_kbps must not be less than min_bitrate_kbps';
  }
}

export class EncoderDto {
  @ApiProperty({ enum: ENCODER_CODECS, default: MANIFEST_DEFAULTS.encoder.codec })
  @IsIn(ENCODER_CODECS)
  codec: 'h264';

  @ApiProperty({
    minimum: 100,
    maximum: 50000,
    default: MANIFEST_DEFAULTS.encoder.bitrate_kbps,
    description: 'Where the rate controller starts, kept within min_bitrate_kbps..max_bitrate_kbps.',
  })
  @IsInt()
  @Min(100)
  @Max(50000)
  bitrate_kbps: number;

  @ApiPropertyOptional({
    minimum: 100,
    maximum: 50000,
    description: 'Lowest target of the rate controller (below it the frame rate, then the resolution, go down). Default scaled from the screen: 1000 at 720p30, 3000 at 1080p60.',
  })
  @IsOptional()
  @IsInt()
  @Min(100)
  @Max(50000)
  min_bitrate_kbps?: number;

  @ApiPropertyOptional({
    minimum: 100,
    maximum: 50000,
    description: 'Highest target of the rate controller. Default scaled from the screen: 3000 at 720p30, 7000 at 1080p60.',
  })
  @IsOptional()
  @IsInt()
  @Min(100)
  @Max(50000)
  @Validate(MaxNotBelowMin)
  max_bitrate_kbps?: number;

  @ApiPropertyOptional({
    enum: ['resolution-first', 'framerate-first'],
    description: 'Below min_bitrate_kbps, what the rate controller lowers first. Default resolution-first: smooth motion over sharpness.',
  })
  @IsOptional()
  @IsIn(['resolution-first', 'framerate-first'])
  degradation?: 'resolution-first' | 'framerate-first';

  @ApiProperty({ minimum: 1, maximum: 600, description: 'Frames between key frames; default 2 × display.fps.' })
  @IsInt()
  @Min(1)
  @Max(600)
  gop: number;
}

export class ManifestDto {
  @ApiProperty({ minLength: 1, maxLength: NAME_MAX, pattern: NAME_PATTERN.source, example: 'my-game' })
  @IsName('name')
  name: string;

  @ApiPropertyOptional({ minimum: 1, description: 'Assigned by the server (next version) when absent.' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(Limits.versionMax)
  version?: number;

  @ApiProperty({ enum: APPLICATION_KINDS })
  @IsIn(APPLICATION_KINDS)
  kind: ApplicationKind;

  @ApiPropertyOptional({
    maxLength: MANIFEST_COMMAND_MAX,
    description: 'Required for x11, forbidden for test-pattern. Relative paths resolve inside the package.',
  })
  @Validate(CommandForKind)
  command?: string;

  @ApiPropertyOptional({ type: DisplayDto, description: 'Default 1280x720@30. test-pattern needs at least 768x16.' })
  @IsObject()
  @ValidateNested()
  @Type(() => DisplayDto)
  @Validate(DisplayForKind)
  display: DisplayDto;

  @ApiPropertyOptional({ type: ResourcesDto, description: 'Default 1 cpu, 512MB.' })
  @IsObject()
  @ValidateNested()
  @Type(() => ResourcesDto)
  resources: ResourcesDto;

  @ApiPropertyOptional({
    enum: NETWORK_MODES,
    default: 'none',
    description: 'x11 only. none: the sandbox has only its own loopback. outbound: it also reaches the outside world (through pasta), but never the host\'s loopback services.',
  })
  @IsOptional()
  @IsIn(NETWORK_MODES)
  network?: NetworkMode;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'string' },
    example: { GDK_SCALE: '2' },
    description: 'x11 only. Variables for the application (DISPLAY, HOME, PULSE_SERVER, PULSE_SOURCE and STREAMSTACK_* are the node\'s).',
  })
  @IsOptional()
  @IsAppEnv()
  env?: Record<string, string>;

  @ApiPropertyOptional({ type: EncoderDto, description: 'Default h264, 4000 kbps, gop 2 × fps.' })
  @IsObject()
  @ValidateNested()
  @Type(() => EncoderDto)
  encoder: EncoderDto;
}

// ---------------------------------------------------------------------------------------
// Entry point

/**
 * Applies defaults, validates (unknown fields rejected) and returns the normalised manifest.
 * Throws `invalid_argument` naming every offending field by its path, joined with "; ".
 */
export async function validateManifest(raw: unknown): Promise<Manifest> {
  if (!isPlainObject(raw)) throw invalid('invalid manifest: it must be an object (a YAML mapping or a JSON object)');
  // Before class-transformer sees it (a "constructor" key crashes it): YAML packages come here unparsed by the body parser.
  const unsafe = findUnsafeKey(raw);
  if (unsafe !== null) throw invalid(`invalid manifest: the key "${unsafe}" is not allowed`);
  const problems: string[] = [];
  const input = withDefaults(raw);

  const dto = plainToInstance(ManifestDto, input);
  const errors = await validate(dto, { whitelist: true, forbidNonWhitelisted: true });
  problems.push(...describeErrors(errors, ''));
  if (dto.kind !== 'x11') for (const key of ['network', 'env'] as const) if (dto[key] !== undefined) problems.push(`${key} is for kind x11 only`);
  if (problems.length > 0) throw invalid(`invalid manifest: ${problems.join('; ')}`);

  const manifest: Manifest = {
    name: dto.name,
    kind: dto.kind,
    display: { width: dto.display.width, height: dto.display.height, fps: dto.display.fps },
    resources: { cpus: dto.resources.cpus, memory: parseMemory(dto.resources.memory) },
    encoder: { codec: dto.encoder.codec, bitrate_kbps: dto.encoder.bitrate_kbps, gop: dto.encoder.gop },
  };
  for (const key of ['min_bitrate_kbps', 'max_bitrate_kbps'] as const) {
    if (dto.encoder[key] !== undefined && dto.encoder[key] !== null) manifest.encoder[key] = dto.encoder[key];
  }
  if (dto.encoder.degradation) manifest.encoder.degradation = dto.encoder.degradation;
  if (dto.version !== undefined && dto.version !== null) manifest.version = dto.version;
  if (dto.kind === 'x11') Object.assign(manifest, { command: dto.command, network: dto.network ?? 'none', env: { ...dto.env } });
  return manifest;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Fills absent (or YAML-empty, i.e. null) blocks and fields, on a shallow copy. */
function withDefaults(raw: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...raw };
  const block = (key: string, defaults: Record<string, unknown>): void => {
    const value = out[key];
    if (value === undefined || value === null) {
      out[key] = { ...defaults };
    } else if (isPlainObject(value)) {
      const filled: Record<string, unknown> = { ...value };
      for (const [field, fallback] of Object.entries(defaults)) {
        if (filled[field] === undefined || filled[field] === null) filled[field] = fallback;
      }
      out[key] = filled;
    }
    // Anything else is left as is for the validator to report.
  };
  for (const key of ['version', 'command', 'network', 'env']) if (out[key] === null) delete out[key];
  block('display', MANIFEST_DEFAULTS.display);
  block('resources', MANIFEST_DEFAULTS.resources);
  const fps = isPlainObject(out.display) ? out.display.fps : undefined;
  const validFps =
    Number.isInteger(fps) && (fps as number) >= Limits.screen.minFps && (fps as number) <= Limits.screen.maxFps;
  // With a broken fps, fall back to the default's gop so only fps is reported.
  const gop = MANIFEST_DEFAULTS.gopSeconds * (validFps ? (fps as number) : MANIFEST_DEFAULTS.display.fps);
  block('encoder', { ...MANIFEST_DEFAULTS.encoder, gop });
  return out;
}

/** `__proto__` would be swallowed by object assignment instead of reported as unknown. */
/** Flattens class-validator's tree into messages that name the full path of each field. */
function describeErrors(errors: ValidationError[], parent: string): string[] {
  const out: string[] = [];
  for (const error of errors) {
    const path = parent ? `${parent}.${error.property}` : error.property;
    const constraints = error.constraints ?? {};
    if ('whitelistValidation' in constraints) {
      out.push(`unknown field "${path}"`);
      continue;
    }
    // A non-object block already says so; its nested complaints would only add noise.
    if ('isObject' in constraints) {
      out.push(`${path} must be an object`);
      continue;
    }
    for (const message of Object.values(constraints)) {
      // Messages start with the bare property name; cross-field ones already carry a path.
      out.push(parent && message.startsWith(`${error.property} `) ? `${parent}.${message}` : message);
    }
    if (error.children?.length) out.push(...describeErrors(error.children, path));
  }
  return out;
}
