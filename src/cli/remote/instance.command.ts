import { Command, Option, SubCommand } from 'nest-commander';
import { ApiError } from './api-client';
import { positiveInt } from './app.command';
import type { InstanceView } from '@streamstack/contracts';
import { followOperation, instanceIdOf, OperationView } from './operation';
import { formatBytes, formatScreen, formatTime, printFields, printJson, printTable, terminal } from './output';
import { enc, Flags, printResult, RemoteCommand, RemoteContext, UsageError, VerbCommand } from './remote-command';

/** `1280x720` or `1280x720@30` → the API's screen object. */
export function parseScreen(text: string): { width: number; height: number; fps?: number } {
  const m = /^(\d+)x(\d+)(?:@(\d+))?$/.exec(text.trim());
  if (!m) throw new UsageError(`--screen must look like 1280x720 or 1280x720@30, not ${JSON.stringify(text)}`);
  return { width: Number(m[1]), height: Number(m[2]), ...(m[3] ? { fps: Number(m[3]) } : {}) };
}

/**
 * Verbs that answer 202 with an operation: by default they follow it to its end, printing
 * the instance's status changes; `--no-wait` returns once the server accepted the work.
 */
abstract class InstanceOperationCommand extends RemoteCommand {
  @Option({ flags: '--no-wait', description: 'return at once instead of waiting for the operation to end' })
  parseNoWait(): boolean {
    return false;
  }

  /**
   * Prints progress (unless --json), then success or `error: <op.err>` with exit code 1.
   * `done` words the success line from the instance's last status.
   */
  protected async follow(ctx: RemoteContext, flags: Flags, op: OperationView, instanceId: string | undefined, done: (status: string | undefined) => string): Promise<void> {
    if (flags.wait === false) {
      if (ctx.json) return printJson(op);
      terminal.out(`Operation ${op.id} is ${op.status}; not waiting for it.`);
      if (instanceId) terminal.out(`Follow it with: streamstack instance show ${instanceId}`);
      return;
    }
    let last: string | undefined;
    const final = await followOperation(ctx.client, op, instanceId, (previous, next, message) => {
      last = next;
      if (ctx.json) return;
      const detail = next === 'error' && message ? ` (${message})` : '';
      terminal.out(`  ${previous ? `${previous} → ` : ''}${next}${detail}`);
    });
    if (ctx.json) printJson(final);
    if (final.status === 'failure') {
      terminal.err(`error: ${final.err || `${final.description || 'operation'} failed`}`);
      process.exitCode = 1;
      return;
    }
    if (!ctx.json) terminal.out(done(last));
  }
}

@SubCommand({ name: 'launch', arguments: '<app>', description: 'Launch an instance of an application and wait until it runs' })
export class InstanceLaunchCommand extends InstanceOperationCommand {
  @Option({ flags: '--version <n>', description: 'application version (default: the latest published one)' })
  parseVersion(value: string): string {
    return value;
  }

  @Option({ flags: '--node <name>', description: 'pin the instance to this node' })
  parseNode(value: string): string {
    return value;
  }

  @Option({ flags: '--screen <WxH@fps>', description: "screen, e.g. 1280x720@30 (default: the manifest's display)" })
  parseScreenFlag(value: string): string {
    return value;
  }

  @Option({ flags: '--streaming', description: 'create a gateway session for the instance' })
  parseStreaming(): boolean {
    return true;
  }

  @Option({ flags: '--stream-account <name>', description: "with --streaming: the account whose clients may join the instance's session (default: admins only)" })
  parseStreamAccount(value: string): string {
    return value;
  }

  @Option({ flags: '--no-start', description: 'create the instance without starting it' })
  parseNoStart(): boolean {
    return false;
  }

  protected async execute([app]: string[], flags: Flags, ctx: RemoteContext): Promise<void> {
    const body: Record<string, unknown> = { app };
    if (typeof flags.version === 'string') body.app_version = positiveInt(flags.version, '--version');
    if (typeof flags.node === 'string') body.node = flags.node;
    if (typeof flags.screen === 'string') body.screen = parseScreen(flags.screen);
    if (flags.streaming === true) body.enable_streaming = true;
    if (typeof flags.streamAccount === 'string') body.stream_account = flags.streamAccount;
    if (flags.start === false) body.no_start = true;

    const op = await ctx.client.request<OperationView>('POST', '/ams/1.0/instances', body);
    const id = instanceIdOf(op);
    // The id first, so that it is on screen even if the wait is interrupted.
    if (!ctx.json) terminal.out(`Launching instance ${id ?? '(unknown id)'} of ${app}...`);
    await this.follow(ctx, flags, op, id, (status) =>
      status === 'created' || status === 'prepared' || status === 'stopped'
        ? `Instance ${id} is ${status}; start it with: streamstack instance start ${id}`
        : `Instance ${id} is ${status ?? 'launched'}.`,
    );
  }
}

@SubCommand({ name: 'list', aliases: ['ls'], description: 'List instances' })
export class InstanceListCommand extends RemoteCommand {
  protected async execute(_params: string[], _flags: Flags, ctx: RemoteContext): Promise<void> {
    const instances = await ctx.client.request<InstanceView[]>('GET', '/ams/1.0/instances');
    printResult(ctx, instances, () => {
      if (instances.length === 0) return terminal.out('No instances.');
      printTable(instances, [
        { header: 'ID', value: (i) => i.id },
        { header: 'APP', value: (i) => i.app },
        { header: 'VERSION', value: (i) => i.app_version, align: 'right' },
        { header: 'NODE', value: (i) => i.node },
        { header: 'STATUS', value: (i) => i.status },
        { header: 'SCREEN', value: (i) => formatScreen(i.screen) },
        { header: 'STREAMING', value: (i) => i.enable_streaming },
        { header: 'CREATED', value: (i) => formatTime(i.created_at) },
      ]);
    });
  }
}

@SubCommand({ name: 'show', arguments: '<id>', description: 'Show an instance' })
export class InstanceShowCommand extends RemoteCommand {
  protected async execute([id]: string[], _flags: Flags, ctx: RemoteContext): Promise<void> {
    const i = await ctx.client.request<InstanceView>('GET', `/ams/1.0/instances/${enc(id)}`);
    printResult(ctx, i, () =>
      printFields([
        ['id', i.id],
        ['app', `${i.app} (version ${i.app_version})`],
        ['node', i.node],
        ['status', i.status],
        ['status message', i.status_message],
        ['screen', formatScreen(i.screen)],
        ['cpus', i.resources?.cpus],
        ['memory', formatBytes(i.resources?.memory)],
        ['streaming', i.enable_streaming],
        ['session', i.session_id],
        ['user data', i.user_data === null || i.user_data === undefined ? null : JSON.stringify(i.user_data)],
        ['created', formatTime(i.created_at)],
        ['updated', formatTime(i.updated_at)],
      ]),
    );
  }
}

@SubCommand({ name: 'start', arguments: '<id>', description: 'Start a stopped instance and wait until it runs' })
export class InstanceStartCommand extends InstanceOperationCommand {
  protected async execute([id]: string[], flags: Flags, ctx: RemoteContext): Promise<void> {
    const op = await ctx.client.request<OperationView>('PATCH', `/ams/1.0/instances/${enc(id)}`, { desired_status: 'started' });
    if (!ctx.json) terminal.out(`Starting instance ${id}...`);
    await this.follow(ctx, flags, op, id, (status) => `Instance ${id} is ${status ?? 'started'}.`);
  }
}

@SubCommand({ name: 'stop', arguments: '<id>', description: 'Stop an instance and wait until it has stopped' })
export class InstanceStopCommand extends InstanceOperationCommand {
  protected async execute([id]: string[], flags: Flags, ctx: RemoteContext): Promise<void> {
    const op = await ctx.client.request<OperationView>('PATCH', `/ams/1.0/instances/${enc(id)}`, { desired_status: 'stopped' });
    if (!ctx.json) terminal.out(`Stopping instance ${id}...`);
    await this.follow(ctx, flags, op, id, (status) => `Instance ${id} is ${status ?? 'stopped'}.`);
  }
}

@SubCommand({ name: 'delete', arguments: '<id>', aliases: ['rm'], description: 'Delete an instance (a running one needs --force)' })
export class InstanceDeleteCommand extends InstanceOperationCommand {
  @Option({ flags: '--force', description: 'delete it even while it runs' })
  parseForce(): boolean {
    return true;
  }

  protected async execute([id]: string[], flags: Flags, ctx: RemoteContext): Promise<void> {
    const force = flags.force === true;
    const op = await ctx.client.request<OperationView>('DELETE', `/ams/1.0/instances/${enc(id)}${force ? '?force=true' : ''}`).catch((e: unknown) => {
      // The server words it for the API (force=true); say what the CLI user types.
      if (e instanceof ApiError && e.status === 409 && !force) throw new ApiError(409, `${e.message} (add --force)`);
      throw e;
    });
    if (!ctx.json) terminal.out(`Deleting instance ${id}...`);
    await this.follow(ctx, flags, op, id, () => `Instance ${id} deleted.`);
  }
}

@SubCommand({ name: 'logs', arguments: '<id>', description: "Print the instance's recent process logs" })
export class InstanceLogsCommand extends RemoteCommand {
  protected async execute([id]: string[], _flags: Flags, ctx: RemoteContext): Promise<void> {
    const logs = await ctx.client.request<string>('GET', `/ams/1.0/instances/${enc(id)}/logs`);
    if (ctx.json) return printJson(logs);
    const text = typeof logs === 'string' ? logs : JSON.stringify(logs, null, 2);
    if (text) terminal.out(text.replace(/\n$/, ''));
  }
}

@Command({
  name: 'instance',
  description: 'Launch and manage instances',
  subCommands: [
    InstanceLaunchCommand,
    InstanceListCommand,
    InstanceShowCommand,
    InstanceStartCommand,
    InstanceStopCommand,
    InstanceDeleteCommand,
    InstanceLogsCommand,
  ],
})
export class InstanceCommand extends VerbCommand {}

export const INSTANCE_COMMANDS = [
  InstanceCommand,
  InstanceLaunchCommand,
  InstanceListCommand,
  InstanceShowCommand,
  InstanceStartCommand,
  InstanceStopCommand,
  InstanceDeleteCommand,
  InstanceLogsCommand,
];
