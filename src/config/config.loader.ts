import { plainToInstance } from 'class-transformer';
import { validateSync, ValidationError } from 'class-validator';
import { hostname } from 'node:os';
import { ConfigKey, ROLES, StreamstackConfig } from './config.schema';

const defaultNodeName = () => hostname().replace(/[^A-Za-z0-9-_]/g, '-').replace(/^[-_]+/, '') || 'node';

/** Every key, its env var, its flag and its default: the contract scripts and operators rely on. */
export const CONFIG_KEYS: ConfigKey[] = [
  { key: 'roles', env: 'STREAMSTACK_ROLES', flag: 'role', default: ROLES.join(','), help: 'roles this process runs' },
  { key: 'host', env: 'STREAMSTACK_HOST', flag: 'host', default: '127.0.0.1', help: 'HTTP listen address' },
  { key: 'port', env: 'STREAMSTACK_PORT', flag: 'port', default: '4000', help: 'HTTP listen port (0 = any free port)' },
  { key: 'publicUrl', env: 'STREAMSTACK_PUBLIC_URL', flag: 'public-url', default: '', help: 'URL clients use; derived from host and port when empty' },
  { key: 'dataDir', env: 'STREAMSTACK_DATA_DIR', flag: 'data-dir', default: './data', help: 'state: SQLite file, application packages, instance logs' },
  { key: 'databaseUrl', env: 'STREAMSTACK_DATABASE_URL', flag: 'database-url', default: '', help: 'empty = SQLite in the data dir; postgres://… for PostgreSQL' },
  { key: 'transport', env: 'STREAMSTACK_TRANSPORT', flag: 'transport', default: 'local (nats when not all roles run here)', help: 'local | nats' },
  { key: 'natsServers', env: 'STREAMSTACK_NATS_SERVERS', flag: 'nats-servers', default: 'nats://127.0.0.1:4222', help: 'comma-separated NATS URLs' },
  { key: 'natsUser', env: 'STREAMSTACK_NATS_USER', default: '', help: "this process's NATS user (see streamstack nats-config)" },
  { key: 'natsPassword', env: 'STREAMSTACK_NATS_PASSWORD', default: '', help: "that user's password" },
  { key: 'natsToken', env: 'STREAMSTACK_NATS_TOKEN', default: '', help: 'a NATS token instead of a user' },
  { key: 'natsCredentials', env: 'STREAMSTACK_NATS_CREDENTIALS', default: '', help: 'a NATS .creds file (NKey + user JWT) instead of a user' },
  { key: 'adminToken', env: 'STREAMSTACK_ADMIN_TOKEN', default: '', help: 'empty: an admin token is made and printed on first start; set: the bootstrap admin token' },
  { key: 'region', env: 'STREAMSTACK_REGION', flag: 'region', default: 'local', help: "the agent's region" },
  { key: 'nodeName', env: 'STREAMSTACK_NODE_NAME', flag: 'node-name', default: 'the host name', help: "this machine's node name in AMS" },
  { key: 'stunUrls', env: 'STREAMSTACK_STUN_URLS', flag: 'stun-urls', default: '', help: 'comma-separated stun: URLs' },
  { key: 'turnUrls', env: 'STREAMSTACK_TURN_URLS', flag: 'turn-urls', default: '', help: 'comma-separated turn:/turns: URLs' },
  { key: 'turnSecret', env: 'STREAMSTACK_TURN_SECRET', default: '', help: "coturn's static-auth-secret" },
  { key: 'turnTtl', env: 'STREAMSTACK_TURN_TTL', default: '3600', help: 'TURN credential lifetime in seconds' },
  { key: 'iceBindAddress', env: 'STREAMSTACK_ICE_BIND_ADDRESS', flag: 'ice-bind-address', default: '', help: "the streamer's ICE bind address; empty = every interface" },
  { key: 'icePortRange', env: 'STREAMSTACK_ICE_PORT_RANGE', flag: 'ice-port-range', default: '', help: 'e.g. 50000-50100; empty = any' },
  { key: 'allowedOrigins', env: 'STREAMSTACK_ALLOWED_ORIGINS', flag: 'allowed-origins', default: '', help: 'CORS / signalling allow-list; empty = any origin' },
  { key: 'logLevel', env: 'STREAMSTACK_LOG_LEVEL', flag: 'log-level', default: 'info', help: 'trace | debug | info | warn | error | fatal | silent' },
  { key: 'cpuAllocationRate', env: 'STREAMSTACK_CPU_ALLOCATION_RATE', default: '4', help: 'node CPU overcommit factor' },
  { key: 'memoryAllocationRate', env: 'STREAMSTACK_MEMORY_ALLOCATION_RATE', default: '2', help: 'node memory overcommit factor' },
  { key: 'sessionRatePerAccount', env: 'STREAMSTACK_SESSION_RATE_PER_ACCOUNT', default: '120', help: 'session creations and joins a minute per client account (admins are not limited)' },
  { key: 'sessionMaxSpectators', env: 'STREAMSTACK_SESSION_MAX_SPECTATORS', default: '4', help: 'gateway: view-only peers a session may have beside its driver (0 to 16)' },
  { key: 'sessionRatePerAddress', env: 'STREAMSTACK_SESSION_RATE_PER_ADDRESS', default: '300', help: "session creations and joins a minute per client address (admins' requests not counted)" },
  { key: 'rpcTimeoutMs', env: 'STREAMSTACK_RPC_TIMEOUT_MS', default: '5000', help: 'timeout of requests between roles' },
  { key: 'warmSpares', env: 'STREAMSTACK_WARM_SPARES', flag: 'warm-spares', default: 'true', help: 'node: keep a booted frame source and streamer waiting, so that instances start faster' },
  { key: 'instanceSandbox', env: 'STREAMSTACK_INSTANCE_SANDBOX', flag: 'instance-sandbox', default: 'on', help: 'node: on = x11 applications run in bubblewrap (refused where it cannot run); off = unsandboxed, warned at every start' },
  { key: 'videoEncoder', env: 'STREAMSTACK_VIDEO_ENCODER', flag: 'video-encoder', default: 'auto', help: 'node: auto (probe h264_nvenc, h264_vaapi, h264_qsv; else libx264) or one of them by name' },
];

export class ConfigError extends Error {}

/** The values of CONFIG_KEYS' defaults that are not literal strings. */
function computedDefault(key: keyof StreamstackConfig, raw: Record<string, unknown>): string {
  if (key === 'nodeName') return defaultNodeName();
  if (key === 'transport') {
    const roles = String(raw.roles ?? '').split(',').map((r) => r.trim());
    return ROLES.every((r) => roles.includes(r)) ? 'local' : 'nats';
  }
  return CONFIG_KEYS.find((k) => k.key === key)!.default;
}

/**
 * Flags override env vars; env vars override defaults. Throws ConfigError naming every bad key
 * (by its env var and flag) so that a bad value stops start-up with a message a person can act on.
 */
export function loadConfig(
  flags: Partial<Record<string, string>> = {},
  env: NodeJS.ProcessEnv = process.env,
): StreamstackConfig {
  const raw: Record<string, unknown> = {};
  for (const k of CONFIG_KEYS) {
    const fromFlag = k.flag ? flags[k.flag] : undefined;
    const value = fromFlag ?? env[k.env];
    if (value !== undefined) raw[k.key] = value;
  }
  for (const k of CONFIG_KEYS) {
    if (raw[k.key] === undefined) raw[k.key] = computedDefault(k.key, raw);
  }
  const config = plainToInstance(StreamstackConfig, raw);
  const errors = validateSync(config, { whitelist: true, forbidNonWhitelisted: true });
  if (errors.length > 0) throw new ConfigError(`invalid configuration: ${describe(errors)}`);
  if (config.turnUrls.length > 0 && !config.turnSecret) {
    throw new ConfigError('invalid configuration: STREAMSTACK_TURN_SECRET is required when TURN URLs are set');
  }
  if (!config.publicUrl) {
    const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
    config.publicUrl = `http://${host.includes(':') ? `[${host}]` : host}:${config.port}`;
  }
  config.publicUrl = config.publicUrl.replace(/\/+$/, '');
  return config;
}

function describe(errors: ValidationError[]): string {
  return errors
    .map((e) => {
      const k = CONFIG_KEYS.find((c) => c.key === e.property);
      const name = k ? [k.env, k.flag && `--${k.flag}`].filter(Boolean).join(' / ') : e.property;
      const why = Object.values(e.constraints ?? {}).join(', ');
      // Never a credential in an error (it ends up in logs): a URL's password is masked.
      const shown = JSON.stringify(e.value).replace(/(\/\/[^/:@\s"]*:)[^@/\s"]*@/g, '$1***@');
      return `${name} = ${shown}: ${why}`;
    })
    .join('; ');
}

/** True when the process runs that role. */
export const hasRole = (config: StreamstackConfig, role: StreamstackConfig['roles'][number]) =>
  config.roles.includes(role);
