import { LoggerService } from '@nestjs/common';
import pino, { Logger } from 'pino';
import { redactUrl } from '../auth/credentials';

/** Token-shaped secrets that must never reach a log line. */
const SECRET_PATTERNS: [RegExp, string][] = [
  [/(authorization["']?\s*[:=]\s*["']?)(macaroon|bearer)?\s*[^\s"',}]+/gi, '$1$2 [redacted]'],
  [/(macaroon\s+root=)\S+/gi, '$1[redacted]'],
  [/(bearer\s+)[A-Za-z0-9._~+/=-]{8,}/gi, '$1[redacted]'],
];

export function redactSecrets(text: string): string {
  let out = redactUrl(text);
  for (const [pattern, replacement] of SECRET_PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

/** Nest's own start-up chatter (modules loaded, routes mapped): useful when debugging only. */
const FRAMEWORK_CONTEXTS = new Set(['NestFactory', 'InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestApplication', 'NestMicroservice']);

/** Nest's logger on pino: structured, one JSON line per event, secrets redacted. */
export class PinoLogger implements LoggerService {
  readonly pino: Logger;

  constructor(level: string, destination?: pino.DestinationStream) {
    this.pino = pino(
      {
        level,
        base: { pid: process.pid },
        redact: { paths: ['req.headers.authorization', 'token', '*.token', 'password', '*.password'], censor: '[redacted]' },
        timestamp: pino.stdTimeFunctions.isoTime,
      },
      destination ?? pino.destination({ fd: 2, sync: true }),
    );
  }

  log(message: unknown, context?: string) {
    this.write(context && FRAMEWORK_CONTEXTS.has(context) ? 'debug' : 'info', message, context);
  }
  error(message: unknown, stackOrContext?: string, context?: string) {
    this.write('error', message, context ?? stackOrContext);
  }
  warn(message: unknown, context?: string) {
    this.write('warn', message, context);
  }
  debug(message: unknown, context?: string) {
    this.write('debug', message, context);
  }
  verbose(message: unknown, context?: string) {
    this.write('trace', message, context);
  }
  fatal(message: unknown, context?: string) {
    this.write('fatal', message, context);
  }

  private write(level: pino.Level, message: unknown, context?: string) {
    if (!this.pino.isLevelEnabled(level)) return;
    const msg = redactSecrets(typeof message === 'string' ? message : message instanceof Error ? message.message : JSON.stringify(message));
    this.pino[level]({ context }, msg);
  }
}
