import { Command, Option, SubCommand } from 'nest-commander';
import { formatTime, printFields, printTable, terminal } from './output';
import { enc, Flags, printResult, RemoteCommand, RemoteContext, UsageError, VerbCommand } from './remote-command';

interface AccountView {
  id: string;
  name: string;
  role: 'admin' | 'client';
  created_at: string;
}

const ROLES = ['admin', 'client'];

@SubCommand({ name: 'create', arguments: '<name>', description: 'Create a service account and print its token (shown once)' })
export class AccountCreateCommand extends RemoteCommand {
  @Option({ flags: '--role <role>', description: 'admin or client', defaultValue: 'client', choices: ROLES })
  parseRole(value: string): string {
    return value;
  }

  protected async execute([name]: string[], flags: Flags, ctx: RemoteContext): Promise<void> {
    const role = typeof flags.role === 'string' ? flags.role : 'client';
    // nest-commander replaces commander's choice check with our parser, so check here.
    if (!ROLES.includes(role)) throw new UsageError(`--role must be admin or client, not ${JSON.stringify(role)}`);
    const account = await ctx.client.request<AccountView & { token: string }>('POST', '/1.0/accounts', { name, role });
    printResult(ctx, account, () => {
      printFields([
        ['id', account.id],
        ['name', account.name],
        ['role', account.role],
        ['token', account.token],
      ]);
      terminal.out('');
      terminal.out('The token is shown only this once: store it now (e.g. STREAMSTACK_TOKEN).');
    });
  }
}

@SubCommand({ name: 'list', aliases: ['ls'], description: 'List service accounts' })
export class AccountListCommand extends RemoteCommand {
  protected async execute(_params: string[], _flags: Flags, ctx: RemoteContext): Promise<void> {
    const accounts = await ctx.client.request<AccountView[]>('GET', '/1.0/accounts');
    printResult(ctx, accounts, () => {
      if (accounts.length === 0) return terminal.out('No accounts.');
      printTable(accounts, [
        { header: 'ID', value: (a) => a.id },
        { header: 'NAME', value: (a) => a.name },
        { header: 'ROLE', value: (a) => a.role },
        { header: 'CREATED', value: (a) => formatTime(a.created_at) },
      ]);
    });
  }
}

@SubCommand({ name: 'revoke', arguments: '<id-or-name>', aliases: ['delete'], description: 'Revoke a service account; its token stops working' })
export class AccountRevokeCommand extends RemoteCommand {
  protected async execute([idOrName]: string[], _flags: Flags, ctx: RemoteContext): Promise<void> {
    const result = await ctx.client.request('DELETE', `/1.0/accounts/${enc(idOrName)}`);
    printResult(ctx, result ?? null, () => terminal.out(`Account ${idOrName} revoked.`));
  }
}

@Command({
  name: 'account',
  description: 'Manage service accounts and their tokens',
  subCommands: [AccountCreateCommand, AccountListCommand, AccountRevokeCommand],
})
export class AccountCommand extends VerbCommand {}

export const ACCOUNT_COMMANDS = [AccountCommand, AccountCreateCommand, AccountListCommand, AccountRevokeCommand];
