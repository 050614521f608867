import { CommandRunner, Option } from 'nest-commander';
import { ApiClient, ApiError } from './api-client';
import { printJson, terminal } from './output';

export const DEFAULT_URL = 'http://127.0.0.1:4000';

/** What every remote verb needs, resolved from flags, then the environment, then defaults. */
export interface RemoteContext {
  client: ApiClient;
  url: string;
  json: boolean;
  /** Whether a token was found at all (to hint at it on 401). */
  hasToken: boolean;
}

export type Flags = Record<string, unknown>;

/**
 * Base of every remote verb: the global options (--url, --token, --json), the HTTP client,
 * and error reporting (`error: …` on stderr, non-zero exit code, never a stack trace).
 * Subclasses implement `execute`.
 */
export abstract class RemoteCommand extends CommandRunner {
  @Option({ flags: '--url <url>', description: `server URL (env STREAMSTACK_URL, default ${DEFAULT_URL})` })
  parseUrl(value: string): string {
    return value;
  }

  @Option({ flags: '--token <token>', description: 'account token (env STREAMSTACK_TOKEN, then STREAMSTACK_ADMIN_TOKEN)' })
  parseToken(value: string): string {
    return value;
  }

  @Option({ flags: '--json', description: 'print the raw JSON metadata instead of a table' })
  parseJson(): boolean {
    return true;
  }

  protected abstract execute(params: string[], flags: Flags, ctx: RemoteContext): Promise<void>;

  async run(params: string[], flags: Flags = {}): Promise<void> {
    let ctx: RemoteContext | undefined;
    try {
      ctx = this.context(flags);
      await this.execute(params, flags, ctx);
    } catch (e) {
      reportError(e, ctx);
    }
  }

  /**
   * Commander lets the verb (`app`) consume its own options wherever they appear, so
   * `app list --json` leaves `--json` on the parent: look there too, nearest first.
   */
  protected globalFlag(flags: Flags, key: 'url' | 'token' | 'json'): unknown {
    if (flags[key] !== undefined) return flags[key];
    for (let cmd: typeof this.command | null | undefined = this.command; cmd; cmd = cmd.parent) {
      const value: unknown = cmd.opts()[key];
      if (value !== undefined) return value;
    }
    return undefined;
  }

  private context(flags: Flags): RemoteContext {
    const env = process.env;
    const url = str(this.globalFlag(flags, 'url')) || env.STREAMSTACK_URL || DEFAULT_URL;
    try {
      const parsed = new URL(url);
      if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('not http');
    } catch {
      throw new UsageError(`invalid --url ${JSON.stringify(url)}: expected http://host:port or https://host`);
    }
    const token = str(this.globalFlag(flags, 'token')) || env.STREAMSTACK_TOKEN || env.STREAMSTACK_ADMIN_TOKEN || undefined;
    return { client: new ApiClient(url, token), url, json: this.globalFlag(flags, 'json') === true, hasToken: !!token };
  }
}

/** A mistake on the command line, reported like an API error. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Prints the error for a person (or for a script, under --json too) and sets the exit code. */
export function reportError(e: unknown, ctx?: RemoteContext): void {
  let message = e instanceof Error ? e.message : String(e);
  if (e instanceof ApiError && e.status === 401 && ctx && !ctx.hasToken) {
    message += ' (pass --token or set STREAMSTACK_TOKEN)';
  }
  terminal.err(`error: ${message}`);
  process.exitCode = e instanceof UsageError ? 2 : 1;
}

/** Verbs without a subcommand show their help; an unknown subcommand is an error. */
export abstract class VerbCommand extends RemoteCommand {
  protected async execute(params: string[]): Promise<void> {
    if (params.length > 0) {
      terminal.err(`error: unknown command '${this.command.name()} ${params[0]}'`);
      this.command.outputHelp({ error: true });
      process.exitCode = 2;
      return;
    }
    this.command.outputHelp();
  }
}

export function printResult(ctx: RemoteContext, metadata: unknown, human: () => void): void {
  if (ctx.json) printJson(metadata);
  else human();
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

export const enc = encodeURIComponent;
